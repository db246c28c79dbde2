using Marten;
using Marten.Exceptions;
using Npgsql;
using Polly;
using Polly.Retry;
using Platform.Api.Access;
using Platform.Api.Apps;
using Platform.Api.Audit;
using Platform.Api.Http;
using Platform.Api.Jobs;
using Platform.Api.OpenApi;
using Platform.Api.Tasks;
using Platform.Api.Tasks.Deleting;
using Platform.Api.Tasks.Dispatching;
using Platform.Api.Telemetry;
using Platform.TaskStore.Apps;

namespace Platform.Api;

internal static class ApiRegistration
{
    public static IHostApplicationBuilder AddApi(this IHostApplicationBuilder builder)
    {
        // Malformed JSON throws, so that BadRequestHandler can answer with a problem naming the field.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestHandler>();
        builder.Services.AddExceptionHandler<StoreUnavailableHandler>();
        // A request retries a failed statement once (a pooled connection may have died with a server
        // restart), not Marten's default three times: while PostgreSQL is away the client gets its 503 fast.
        builder.Services.ConfigureMarten(store => store.ConfigurePolly(polly => polly.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<MartenCommandException>(),
            MaxRetryAttempts = 1,
            Delay = TimeSpan.FromMilliseconds(50),
        })));
        builder.Services.AddSingleton<RunTaskDispatch>();
        builder.Services.AddSingleton<ApiTelemetry>();
        builder.Services.AddOptions<AppDefaultsOptions>().Bind(builder.Configuration.GetSection(AppDefaultsOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AppDefaultsOptions>, AppDefaultsValidation>();
        builder.Services.AddScoped<AppDeletion>();
        builder.Services.AddSingleton<OwnedTaskDeletion>();
        builder.AddAccess();
        builder.AddSecretKeyRing();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<UndescribedRoutes>());
        return builder;
    }

    public static WebApplication UseApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAccess();
        return app;
    }

    public static Task<int> ReencryptSecretsAsync(this WebApplication app) =>
        SecretReencryption.RunAsync(app.Services, app.Logger, CancellationToken.None);

    public static WebApplication MapApi(this WebApplication app)
    {
        // Every route under /v3 needs an authenticated caller; /healthz and /metrics stay open (MapDefaultEndpoints).
        var v3 = app.MapGroup("/v3").RequireAuthorization();
        v3.MapSpaces();
        v3.MapRoles();
        v3.MapServiceAccounts();
        v3.MapApps();
        v3.MapTasks();
        v3.MapJobs();
        v3.MapAuditEvents();
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
