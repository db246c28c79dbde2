using Marten;
using MassTransit;
using Platform.Api.Http;
using Platform.Contracts;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks.Cancelling;

/// <summary>
/// <c>POST /v3/tasks/{guid}/actions/cancel</c>, as Cloud Foundry: 202 with the task. A pending task fails
/// at once and never starts; a running one goes CANCELING and its executor ends it (SIGTERM, then SIGKILL
/// after the grace period); an ended one is a 422.
/// </summary>
internal static class CancelTaskEndpoint
{
    public static async Task<IResult> Cancel(Guid guid, IDocumentStore store, IPublishEndpoint bus, TimeProvider clock, CancellationToken ct)
    {
        // An executor may claim the task between our read and our append: then the append fails on the
        // stream version, and the decision is made again on the new state.
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AppTask>(guid, ct);
            if (stream.Aggregate is not { } task) return Problems.NotFound("Task", guid.ToString());
            var now = clock.GetUtcNow();
            var decision = TaskLifecycle.Cancel(task, TaskLifecycle.CancelledReason, now);
            if (decision.Refusal is { } refusal) return Problems.Invalid("state", refusal);
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
                    TaskId = guid, Reason = task.CancelReason ?? TaskLifecycle.CancelledReason, GracePeriodSeconds = task.TerminationGracePeriodSeconds,
                }, ct);
            }
            else if (decision.Events.Count > 0)
            {
                // A pending task ended here, without an executor: announce it as an executor would.
                await bus.Publish(new TaskTerminated { TaskId = guid, App = task.App, Reason = TaskLifecycle.CancelledReason, TerminatedAt = now }, ct);
            }
            var updated = await session.LoadAsync<AppTask>(guid, ct);
            return TypedResults.Accepted($"/v3/tasks/{guid}", TaskResource.From(updated!));
        }
    }
}
