using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Reaping;

public static class ReapingRegistration
{
    /// <summary>
    /// Ends (or requeues) the tasks of executors whose lease ran out. Every service that has the store and
    /// the bus runs it, so a lost executor's work is reaped by whichever service survives, not only by
    /// another executor (ARCHITECTURE.md, guarantee 3).
    /// </summary>
    public static IHostApplicationBuilder AddLostTaskReaping(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReapingOptions>()
            .Bind(builder.Configuration.GetSection(ReapingOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<LostTaskReaper>();
        builder.Services.AddHostedService<LostExecutorSweep>();
        return builder;
    }
}
