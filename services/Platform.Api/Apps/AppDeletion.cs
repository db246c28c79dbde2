using Marten;
using Platform.Api.Tasks.Deleting;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Audit;

namespace Platform.Api.Apps;

/// <summary>
/// Deletes an app with all its tasks and their logs (<see cref="OwnedTaskDeletion"/>). Unfinished tasks
/// block it unless forced; forced, they are cancelled first and waited for (their grace periods included),
/// because a running task's history is never deleted from under it.
/// </summary>
internal sealed class AppDeletion(IDocumentStore store, OwnedTaskDeletion tasks, TimeProvider clock, ILogger<AppDeletion> logger)
{
    public const string DeletedReason = "task was terminated because its app was deleted";
    private static readonly TimeSpan WaitBeyondGrace = TimeSpan.FromSeconds(15);

    public enum Result { Deleted, NotFound, HasUnfinishedTasks, TasksDidNotEnd }

    // actor: who deletes it (Actors), recorded on each cancel of its tasks.
    public async Task<Result> DeleteAsync(string name, bool force, string actor, CancellationToken ct)
    {
        App? app;
        await using (var session = store.QuerySession())
            if ((app = await session.LoadAsync<App>(name, ct)) is null) return Result.NotFound;
        if (!force && await tasks.AnyUnfinishedAsync(t => t.App == name, ct)) return Result.HasUnfinishedTasks;
        if (await tasks.EndAllAsync(t => t.App == name, DeletedReason, actor, gracePeriodSeconds: null, WaitBeyondGrace, ct) > 0) return Result.TasksDidNotEnd;

        // The app goes first, so that no new task can be accepted for it while its tasks are deleted.
        await using (var session = store.LightweightSession())
        {
            session.Delete<App>(name);
            AuditEntry.ForApp(session, "delete", name, app.Space, actor, clock.GetUtcNow());
            await session.SaveChangesAsync(ct);
        }
        var deleted = await tasks.DeleteEndedAsync(t => t.App == name, ct);
        logger.LogInformation("Deleted app {App} and {Count} of its tasks", name, deleted);
        return Result.Deleted;
    }
}
