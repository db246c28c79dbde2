using MassTransit;
using Platform.Contracts;
using Platform.Executor.Tasks.Running;

namespace Platform.Executor.Tasks.Terminating;

/// <summary>
/// Every executor receives every TerminateTask (each has its own queue on the fan-out exchange); the one
/// running the task ends its process tree, and <see cref="TaskRunner"/> records the reason and publishes
/// <see cref="TaskTerminated"/>.
/// </summary>
internal sealed class TerminateTaskConsumer(TaskRunner runner, ILogger<TerminateTaskConsumer> logger) : IConsumer<TerminateTask>
{
    public Task Consume(ConsumeContext<TerminateTask> context)
    {
        var message = context.Message;
        var grace = message.GracePeriodSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 3600)) : (TimeSpan?)null;
        if (runner.Terminate(message.TaskId, message.Reason, grace))
            logger.LogInformation("Terminating task {TaskId}: {Reason}", message.TaskId, message.Reason);
        return Task.CompletedTask;
    }
}
