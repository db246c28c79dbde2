using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Platform.ServiceDefaults;

/// <summary>What every Platform host has: telemetry, health, problem details and the JSON conventions.</summary>
public static class ServiceDefaultsRegistration
{
    /// <summary>The ActivitySource and Meter name every Platform service writes its own spans and metrics to.</summary>
    public const string TelemetryName = "Platform";

    /// <summary>
    /// This process's name among replicas when none is configured (host and pid): what a Scheduler records on
    /// its occurrences, an Executor claims and leases under, and Retention records on its runs.
    /// </summary>
    public static readonly string ReplicaName = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformCredentials();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.Configure<JsonOptions>(o =>
        {
            // The HTTP API follows Cloud Foundry v3: snake_case fields.
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        });
        builder.Services.AddHealthChecks();
        builder.AddOpenTelemetry();
        return builder;
    }

    /// <summary>
    /// The service's credentials as eng/setup.sh generated them: <c>/etc/platform/&lt;service&gt;.json</c>
    /// (root-only; the directory is <c>PLATFORM_CONFIG_DIR</c> when set), e.g. <c>api.json</c> with the
    /// PostgreSQL connection string and the service's own RabbitMQ user. Read after appsettings.json and
    /// before environment variables and the command line, which still override it.
    /// </summary>
    private static void AddPlatformCredentials(this IHostApplicationBuilder builder)
    {
        var directory = builder.Configuration["PLATFORM_CONFIG_DIR"] is { Length: > 0 } configured ? configured : "/etc/platform";
        var service = builder.Environment.ApplicationName.Split('.')[^1].ToLowerInvariant();
        var sources = ((IConfigurationBuilder)builder.Configuration).Sources;
        var firstOverride = sources.Select((source, index) => (source, index))
            .FirstOrDefault(s => s.source is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource
                && ((Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource)s.source).Prefix is null or "").index;
        var credentials = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = Path.Combine(directory, service + ".json"), Optional = true, ReloadOnChange = false,
        };
        credentials.ResolveFileProvider();
        if (firstOverride > 0) sources.Insert(firstOverride, credentials);
        else sources.Add(credentials);
    }

    private static void AddOpenTelemetry(this IHostApplicationBuilder builder)
    {
        // The host tags every log scope with the current TraceId, SpanId and ParentId; printing scopes puts
        // them on each console line, so that a line in a log dashboard links to its trace.
        builder.Logging.AddSimpleConsole(console =>
        {
            console.IncludeScopes = true;
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        });
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing => tracing
                .AddSource(TelemetryName)
                .AddSource("MassTransit")
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/healthz") && http.Request.Path != "/metrics")
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                .AddMeter(TelemetryName)
                .AddMeter("MassTransit")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());

        // Export only where an operator configured a collector: no endpoint, no export and no error spam.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }
    }

    /// <summary>
    /// <c>/healthz/live</c>: 200 while the process serves requests; it runs no dependency check, so that a
    /// PostgreSQL or RabbitMQ outage does not make an orchestrator restart every replica. <c>/healthz/ready</c>
    /// (and <c>/healthz</c>, kept for existing probes): 200 only when every dependency check (PostgreSQL,
    /// RabbitMQ) is healthy; the JSON body names each check and what is wrong with it.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var ready = new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = HealthReportWriter.WriteAsync,
        };
        app.MapHealthChecks("/healthz", ready);
        app.MapHealthChecks("/healthz/ready", ready);
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthReportWriter.WriteAsync });
        // Prometheus scrapes the same instruments the OTLP exporter pushes.
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
