using System.Diagnostics;
using MassTransit;
using Platform.Contracts;
using Platform.Executor.Telemetry;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// Takes a RunTask when this executor has a free slot, claims it, announces <see cref="TaskStarted"/>, and
/// hands the process to <see cref="TaskRunner"/>. The delivery is acknowledged as soon as the claim is
/// stored, so a task that runs for hours never holds an unacknowledged message.
/// </summary>
internal sealed class RunTaskConsumer(TaskClaimer claimer, TaskRunner runner) : IConsumer<RunTask>
{
    public async Task Consume(ConsumeContext<RunTask> context)
    {
        var taskId = context.Message.TaskId ?? context.MessageId ?? NewId.NextGuid();
        await runner.WaitForSlotAsync(context.CancellationToken);
        ClaimedTask? task;
        using (var claim = ExecutorTelemetry.StartClaim(context.Message, taskId))
        {
            try
            {
                task = await claimer.ClaimAsync(context.Message, taskId, context.CancellationToken);
            }
            catch (RunTaskRejected rejected)
            {
                claim?.SetStatus(ActivityStatusCode.Error, rejected.Message);
                runner.ReleaseSlot();
                // Recorded where the task can be known, then rethrown: the message goes to the error queue, with the reason.
                await claimer.RecordRejectionAsync(context.Message, taskId, rejected, context.CancellationToken);
                throw;
            }
            catch (Exception ex)
            {
                claim?.SetStatus(ActivityStatusCode.Error, ex.Message);
                runner.ReleaseSlot();
                throw;
            }
            claim?.SetTag("task.claimed", task is not null);
        }
        if (task is null)
        {
            runner.ReleaseSlot();
            return;
        }

        await context.Publish(new TaskStarted
        {
            TaskId = task.TaskId,
            App = task.App,
            SequenceId = task.SequenceId,
            Executor = runner.ExecutorName,
            StartedAt = task.ClaimedAt,
        });
        // The run outlives this consume; it continues the consume span's trace (see TaskRunner.Start).
        runner.Start(task, Activity.Current?.Context ?? default);
    }
}
