using System.Diagnostics;
using MassTransit;
using Platform.Contracts;
using Platform.Messaging;
using Platform.Executor.Telemetry;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// Takes a RunTask once this executor has a free slot for it (<see cref="Draining.RunTaskIntake"/>), claims it, hands the process to
/// <see cref="TaskRunner"/> and announces <see cref="TaskStarted"/>. The delivery is acknowledged as soon as the claim is
/// stored, so a task that runs for hours never holds an unacknowledged message.
/// </summary>
internal sealed class RunTaskConsumer(
    PublisherAuthorization authorization, TaskClaimer claimer, TaskRunner runner, ILogger<RunTaskConsumer> logger) : IConsumer<RunTask>
{
    public async Task Consume(ConsumeContext<RunTask> context)
    {
        var taskId = context.Message.TaskId ?? context.MessageId ?? NewId.NextGuid();
        // The delivery holds a slot already (RunTaskIntake, in front of this consumer); it is handed to the run,
        // or freed here whatever ends the consume without one.
        ClaimedTask? task = null;
        try
        {
            var publisher = await authorization.AuthorizeAsync(context.Message, PublisherIdentity.Of(context), context.CancellationToken);
            using var claim = ExecutorTelemetry.StartClaim(context.Message, taskId);
            try
            {
                task = await claimer.ClaimAsync(context.Message, taskId, publisher, context.CancellationToken);
            }
            catch (RunTaskRejected rejected)
            {
                claim?.SetStatus(ActivityStatusCode.Error, rejected.Message);
                // Recorded where the task can be known, then rethrown: the message goes to the error queue, with the reason.
                await claimer.RecordRejectionAsync(context.Message, taskId, publisher, rejected, context.CancellationToken);
                throw;
            }
            catch (Exception ex)
            {
                claim?.SetStatus(ActivityStatusCode.Error, ex.Message);
                throw;
            }
            claim?.SetTag("task.claimed", task is not null);
        }
        catch (RunTaskUnauthorized refused)
        {
            logger.LogWarning("RunTask {TaskId} for app {App} refused: {Reason}", taskId, context.Message.App, refused.Message);
            throw;
        }
        finally
        {
            if (task is null) runner.ReleaseSlot();
        }
        if (task is null) return;

        // The process starts first and TaskStarted is announced meanwhile: the announcement is not on the way
        // from "run this" to the process running. The run waits for it before announcing the task's end, so
        // that subscribers see TaskStarted before TaskCompleted. The run outlives this consume; it continues
        // the consume span's trace (see TaskRunner.Start).
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        runner.Start(task, Activity.Current?.Context ?? default, announced.Task);
        try
        {
            await context.Publish(TaskMessages.Started(task.TaskId, task.App, task.SequenceId, runner.ExecutorName, task.ClaimedAt));
        }
        catch (Exception ex)
        {
            // The claim is stored and the process runs: failing this delivery would not undo either.
            logger.LogWarning(ex, "Announcing the start of task {TaskId} failed; the task runs and its end will be announced", task.TaskId);
        }
        finally
        {
            announced.SetResult();
        }
    }
}
