using Marten;
using MassTransit;
using Platform.Api.Telemetry;
using Platform.Contracts;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks.Cancelling;

/// <summary>
/// Cancels one task, for every caller that ends tasks on request (the cancel endpoint, forced app
/// deletion): records the decision in the task's stream, then tells the executor or announces the end.
/// </summary>
internal sealed class TaskCancellation(IDocumentStore store, IPublishEndpoint bus, ApiTelemetry telemetry, TimeProvider clock)
{
    public sealed record Outcome(AppTask? Task, string? Refusal);

    public async Task<Outcome> CancelAsync(Guid taskId, string reason, CancellationToken ct)
    {
        // An executor may claim the task between our read and our append: then the append fails on the
        // stream version, and the decision is made again on the new state.
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AppTask>(taskId, ct);
            if (stream.Aggregate is not { } task) return new Outcome(null, null);
            var now = clock.GetUtcNow();
            var decision = TaskLifecycle.Cancel(task, reason, now);
            if (decision.Refusal is { } refusal) return new Outcome(task, refusal);
            stream.AppendMany(decision.Events);
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (JasperFx.ConcurrencyException) when (attempt < 5)
            {
                continue;
            }

            if (decision.TerminateProcess)
            {
                await bus.Publish(new TerminateTask
                {
                    TaskId = taskId, Reason = task.CancelReason ?? reason, GracePeriodSeconds = task.TerminationGracePeriodSeconds,
                }, ct);
            }
            else if (decision.Events.Count > 0)
            {
                // A pending task ended here, without an executor: announce it as an executor would.
                telemetry.CancelledBeforeStart(task);
                await bus.Publish(new TaskTerminated { TaskId = taskId, App = task.App, Reason = reason, TerminatedAt = now }, ct);
            }
            return new Outcome(await session.LoadAsync<AppTask>(taskId, ct), null);
        }
    }
}
