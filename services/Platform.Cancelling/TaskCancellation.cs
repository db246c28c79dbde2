using System.Diagnostics.Metrics;
using Marten;
using MassTransit;
using Platform.ServiceDefaults;
using Platform.TaskStore.Access;
using Platform.TaskStore.Tasks;

namespace Platform.Cancelling;

/// <summary>
/// The one path by which a task is cancelled from outside its executor: the cancel endpoint, an app's or a
/// job's deletion, the Scheduler's Replace policy. It records the cancel in the task's stream
/// (<see cref="TaskLifecycle.Cancel"/>), announces it (<see cref="TaskMessages.Cancelled"/>: TerminateTask to
/// the executors for a running task, TaskTerminated for a pending one), and counts a pending task that
/// ended here as <c>platform.tasks.completed{task.outcome=cancelled}</c>; a running one is counted by the
/// executor that ends it.
/// </summary>
public sealed class TaskCancellation(IDocumentStore store, IBus bus, TimeProvider clock, IMeterFactory meters)
{
    private readonly TaskCompletions _completed = new(meters.Create(ServiceDefaultsRegistration.TelemetryName));

    /// <summary>
    /// Cancels the task with <paramref name="reason"/>, recording <paramref name="actor"/> (<see cref="Actors"/>) as who
    /// asked; <paramref name="gracePeriodSeconds"/> is the time between SIGTERM and SIGKILL for a running task (null: the task's own).
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(Guid taskId, string reason, string actor, CancellationToken ct, int? gracePeriodSeconds = null)
    {
        var outcome = await RecordAsync(taskId, reason, actor, ct);
        foreach (var message in TaskMessages.Cancelled(outcome, gracePeriodSeconds ?? outcome.Task?.TerminationGracePeriodSeconds))
            await bus.Publish(message, ct);
        if (outcome.EndedWithoutExecutor) _completed.Add(outcome.Task!.App, TelemetryTags.Cancelled);
        return outcome;
    }

    private async Task<CancelOutcome> RecordAsync(Guid taskId, string reason, string actor, CancellationToken ct)
    {
        // An executor may claim the task between our read and our append: then the append fails on the
        // stream version, and the decision is made again on the new state.
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            session.LastModifiedBy = actor;
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
