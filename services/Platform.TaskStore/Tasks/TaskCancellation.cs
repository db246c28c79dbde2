using Marten;

namespace Platform.TaskStore.Tasks;

/// <summary>What a cancel request did: the task after it (null when there is no such task) and the decision taken.</summary>
public sealed record CancelOutcome(AppTask? Task, CancelDecision? Decision, DateTimeOffset At);

/// <summary>
/// Records a cancel request in a task's stream (<see cref="TaskLifecycle.Cancel"/>), for every caller that
/// ends tasks: the cancel endpoint, a job's deletion, the Scheduler's Replace policy. The caller publishes
/// what the decision asks for (TerminateTask to the executors, or TaskTerminated for a pending task).
/// </summary>
public sealed class TaskCancellation(IDocumentStore store, TimeProvider clock)
{
    public async Task<CancelOutcome> RequestAsync(Guid taskId, string reason, CancellationToken ct)
    {
        // An executor may claim the task between our read and our append: then the append fails on the
        // stream version, and the decision is made again on the new state.
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AppTask>(taskId, ct);
            var now = clock.GetUtcNow();
            if (stream.Aggregate is not { } task) return new CancelOutcome(null, null, now);
            var decision = TaskLifecycle.Cancel(task, reason, now);
            if (decision.Refusal is not null) return new CancelOutcome(task, decision, now);
            stream.AppendMany(decision.Events);
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (JasperFx.ConcurrencyException) when (attempt < 5)
            {
                continue;
            }
            return new CancelOutcome(await session.LoadAsync<AppTask>(taskId, ct), decision, now);
        }
    }
}
