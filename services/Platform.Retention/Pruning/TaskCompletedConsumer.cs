using MassTransit;
using Platform.Contracts;
using Platform.Retention.Telemetry;

namespace Platform.Retention.Pruning;

/// <summary>A task of the app finished: the app may now be over its limit, so it is marked for pruning.</summary>
public sealed class TaskCompletedConsumer(DirtyApps dirty, RetentionTelemetry telemetry) : IConsumer<TaskCompleted>
{
    public Task Consume(ConsumeContext<TaskCompleted> context)
    {
        telemetry.Triggered(context.Message.App);
        dirty.Mark(context.Message.App, PruneReason.TaskEnded);
        return Task.CompletedTask;
    }
}
