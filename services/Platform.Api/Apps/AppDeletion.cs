using Marten;
using Platform.Cancelling;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Apps;

/// <summary>
/// Deletes an app with all its tasks and their logs, through the one task deletion path. Unfinished tasks
/// block it unless forced; forced, they are cancelled first and waited for (their grace periods included),
/// because a running task's history is never deleted from under it.
/// </summary>
internal sealed class AppDeletion(
    IDocumentStore store, TaskCancellation cancellation, TaskDeletion deletion, ILogger<AppDeletion> logger)
{
    public const string DeletedReason = "task was terminated because its app was deleted";
    private const int Batch = 1000;
    private static readonly TimeSpan WaitBeyondGrace = TimeSpan.FromSeconds(15);

    public enum Result { Deleted, NotFound, HasUnfinishedTasks, TasksDidNotEnd }

    public async Task<Result> DeleteAsync(string name, bool force, CancellationToken ct)
    {
        await using (var session = store.QuerySession())
        {
            if (await session.LoadAsync<App>(name, ct) is null) return Result.NotFound;
            var unfinished = await Unfinished(session, name).ToListAsync(ct);
            if (unfinished.Count > 0)
            {
                if (!force) return Result.HasUnfinishedTasks;
                foreach (var task in unfinished) await cancellation.CancelAsync(task.Id, DeletedReason, ct);
                var grace = unfinished.Max(t => t.TerminationGracePeriodSeconds ?? TaskDefinition.DefaultGracePeriodSeconds);
                if (!await WaitUntilEndedAsync(name, TimeSpan.FromSeconds(grace) + WaitBeyondGrace, ct)) return Result.TasksDidNotEnd;
            }
        }

        // The app goes first, so that no new task can be accepted for it while its tasks are deleted.
        await using (var session = store.LightweightSession())
        {
            session.Delete<App>(name);
            await session.SaveChangesAsync(ct);
        }
        var deleted = 0;
        while (true)
        {
            await using var session = store.QuerySession();
            var ids = await session.Query<AppTask>().Where(t => t.App == name).Select(t => t.Id).Take(Batch).ToListAsync(ct);
            if (ids.Count == 0) break;
            var gone = await deletion.DeleteAsync(ids, ct);
            deleted += gone.Count;
            if (gone.Count == 0) break; // only unfinished tasks are left (accepted in the last instant); they keep their history
        }
        logger.LogInformation("Deleted app {App} and {Count} of its tasks", name, deleted);
        return Result.Deleted;
    }

    private static IQueryable<AppTask> Unfinished(IQuerySession session, string app) =>
        session.Query<AppTask>().Where(t => t.App == app && t.State != TaskState.Succeeded && t.State != TaskState.Failed);

    private async Task<bool> WaitUntilEndedAsync(string app, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await using var session = store.QuerySession();
            if (!await Unfinished(session, app).AnyAsync(ct)) return true;
            await Task.Delay(200, ct);
        }
        return false;
    }
}
