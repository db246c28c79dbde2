using Marten;
using Platform.Retention.Pruning;
using Platform.Retention.Sweeping;
using Platform.Retention.Telemetry;

namespace Platform.Retention;

internal static class RetentionRegistration
{
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetentionOptions>()
            .Bind(builder.Configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.ConfigureMarten(store => store.Schema.For<RetentionRun>());
        builder.Services.AddSingleton<DirtyApps>();
        builder.Services.AddSingleton<RetentionTelemetry>();
        builder.Services.AddSingleton<AppPruner>();
        builder.Services.AddHostedService<PruningWorker>();
        builder.Services.AddHostedService<RetentionSweep>();
        return builder;
    }
}
