using MassTransit;
using Platform.Contracts;

namespace Platform.Retention.Retention.Pruning;

/// <summary>A task of the app finished: the app may now be over its limit, so it is marked for pruning.</summary>
public sealed class TaskCompletedConsumer(DirtyApps dirty) : IConsumer<TaskCompleted>
{
    public Task Consume(ConsumeContext<TaskCompleted> context)
    {
        dirty.Mark(context.Message.App, PruneReason.TaskEnded);
        return Task.CompletedTask;
    }
}
