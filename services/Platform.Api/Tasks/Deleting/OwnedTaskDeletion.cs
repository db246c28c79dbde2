using System.Linq.Expressions;
using Marten;
using Platform.Cancelling;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks.Deleting;

/// <summary>
/// The one way the tasks of an app or a job go with it (<c>DELETE /v3/apps/{name}?force=true</c>,
/// <c>DELETE /v3/jobs/{job}</c>): cancel every unfinished one through the one cancel path, wait until none
/// is unfinished, then delete them with their streams and logs through <see cref="TaskDeletion"/>. A running
/// task's history is never deleted from under it.
/// </summary>
internal sealed class OwnedTaskDeletion(IDocumentStore store, TaskCancellation cancellation, TaskDeletion deletion, TimeProvider clock)
{
    private const int Batch = 1000;

    /// <summary>Whether any task of the set has not ended.</summary>
    public async Task<bool> AnyUnfinishedAsync(Expression<Func<AppTask, bool>> owned, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<AppTask>().Where(owned).Where(t => t.State.In(TaskStateNames.Unfinished)).AnyAsync(ct);
    }

    /// <summary>
    /// Cancels every unfinished task of the set (and any that appears meanwhile) and waits until all have
    /// ended, for the longest grace period among them plus <paramref name="beyondGrace"/>.
    /// <paramref name="actor"/> is who asked (<see cref="Platform.TaskStore.Access.Actors"/>); <paramref name="gracePeriodSeconds"/> is the time between SIGTERM and SIGKILL for a running task (null: each task's own).
    /// </summary>
    /// <returns>How many were still unfinished when the wait ran out: 0 when every one ended.</returns>
    public async Task<int> EndAllAsync(
        Expression<Func<AppTask, bool>> owned, string reason, string actor, int? gracePeriodSeconds, TimeSpan beyondGrace, CancellationToken ct)
    {
        var asked = new HashSet<Guid>();
        DateTimeOffset? deadline = null;
        while (true)
        {
            IReadOnlyList<AppTask> unfinished;
            await using (var session = store.QuerySession())
                unfinished = await session.Query<AppTask>().Where(owned).Where(t => t.State.In(TaskStateNames.Unfinished)).ToListAsync(ct);
            if (unfinished.Count == 0) return 0;
            deadline ??= clock.GetUtcNow() + beyondGrace + TimeSpan.FromSeconds(
                gracePeriodSeconds ?? unfinished.Max(t => t.TerminationGracePeriodSeconds ?? TaskDefinition.DefaultGracePeriodSeconds));
            foreach (var task in unfinished.Where(t => asked.Add(t.Id))) await cancellation.CancelAsync(task.Id, reason, actor, ct, gracePeriodSeconds);
            if (clock.GetUtcNow() > deadline) return unfinished.Count;
            await Task.Delay(TimeSpan.FromMilliseconds(200), clock, ct);
        }
    }

    /// <summary>Deletes the set's ended tasks in batches; one still unfinished (accepted in the last instant) keeps its history.</summary>
    /// <returns>How many were deleted.</returns>
    public async Task<int> DeleteEndedAsync(Expression<Func<AppTask, bool>> owned, CancellationToken ct)
    {
        var deleted = 0;
        while (true)
        {
            IReadOnlyList<Guid> ids;
            await using (var session = store.QuerySession())
                ids = await session.Query<AppTask>().Where(owned).Where(t => t.State == TaskState.Succeeded || t.State == TaskState.Failed)
                    .Select(t => t.Id).Take(Batch).ToListAsync(ct);
            if (ids.Count == 0) return deleted;
            var gone = await deletion.DeleteAsync(ids, ct);
            deleted += gone.Count;
            if (gone.Count == 0) return deleted;
        }
    }
}
