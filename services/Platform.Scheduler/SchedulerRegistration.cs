using Platform.Scheduler.Jobs.Scheduling;
using Platform.Scheduler.Telemetry;

namespace Platform.Scheduler;

internal static class SchedulerRegistration
{
    public static IHostApplicationBuilder AddScheduler(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SchedulerOptions>()
            .Bind(builder.Configuration.GetSection(SchedulerOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (builder.Configuration.GetSection(SchedulerOptions.Section).Get<SchedulerOptions>()?.ClockStart is { } start)
            builder.Services.AddSingleton<TimeProvider>(new ShiftedClock(start));
        builder.Services.AddSingleton<ReloadSignal>();
        builder.Services.AddSingleton<SchedulerTelemetry>();
        builder.Services.AddSingleton<OccurrenceFirer>();
        builder.Services.AddSingleton<FiringWarmUp>();
        builder.Services.AddHostedService<JobChangeListener>();
        builder.Services.AddHostedService<JobScheduler>();
        return builder;
    }
}
