using Platform.Api.Apps;
using Platform.Api.Http;
using Platform.Api.Jobs;
using Platform.Api.OpenApi;
using Platform.Api.Tasks;
using Platform.Api.Tasks.Cancelling;
using Platform.Api.Telemetry;

namespace Platform.Api;

internal static class ApiRegistration
{
    public static IHostApplicationBuilder AddApi(this IHostApplicationBuilder builder)
    {
        // Malformed JSON throws, so that BadRequestHandler can answer with a problem naming the field.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestHandler>();
        builder.Services.AddSingleton<ApiTelemetry>();
        builder.Services.AddOptions<AppDefaultsOptions>().Bind(builder.Configuration.GetSection(AppDefaultsOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AppDefaultsOptions>, AppDefaultsValidation>();
        builder.Services.AddScoped<AppDeletion>();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<UndescribedRoutes>());
        return builder;
    }

    public static WebApplication UseApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        var v3 = app.MapGroup("/v3");
        v3.MapApps();
        v3.MapTasks();
        v3.MapJobs();
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
