using MassTransit;
using Platform.Contracts;
using Platform.Retention.Telemetry;

namespace Platform.Retention.Pruning;

/// <summary>A task of the app was ended on request: the app may now be over its limit, so it is marked for pruning.</summary>
public sealed class TaskTerminatedConsumer(DirtyApps dirty, RetentionTelemetry telemetry) : IConsumer<TaskTerminated>
{
    public Task Consume(ConsumeContext<TaskTerminated> context)
    {
        telemetry.Triggered(context.Message.App);
        dirty.Mark(context.Message.App, PruneReason.TaskEnded);
        return Task.CompletedTask;
    }
}
