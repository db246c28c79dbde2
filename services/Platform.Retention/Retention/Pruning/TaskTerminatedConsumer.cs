using MassTransit;
using Platform.Contracts;

namespace Platform.Retention.Retention.Pruning;

/// <summary>A task of the app was ended on request: the app may now be over its limit, so it is marked for pruning.</summary>
public sealed class TaskTerminatedConsumer(DirtyApps dirty) : IConsumer<TaskTerminated>
{
    public Task Consume(ConsumeContext<TaskTerminated> context)
    {
        dirty.Mark(context.Message.App, PruneReason.TaskEnded);
        return Task.CompletedTask;
    }
}
