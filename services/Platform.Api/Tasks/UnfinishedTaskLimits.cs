using Marten;
using Microsoft.Extensions.Options;
using Platform.Api.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks;

/// <summary>
/// Cloud Foundry's <c>per_app_tasks</c>, and the same per space: how many unfinished (pending, running,
/// cancelling) tasks may exist before a new one is refused with a 422 that names the limit.
/// </summary>
internal sealed class UnfinishedTaskLimits(IOptions<AccessOptions> options)
{
    /// <returns>Null while both limits hold; otherwise why the task is refused.</returns>
    public async Task<string?> ExceededAsync(IQuerySession session, App app, CancellationToken ct)
    {
        var limits = options.Value.Limits;
        var batch = session.CreateBatchQuery();
        var ofApp = batch.Query<AppTask>().Where(t => t.App == app.Name
            && (t.State == TaskState.Pending || t.State == TaskState.Running || t.State == TaskState.Canceling)).Count();
        var ofSpace = batch.Query<AppTask>().Where(t => t.Space == app.Space
            && (t.State == TaskState.Pending || t.State == TaskState.Running || t.State == TaskState.Canceling)).Count();
        await batch.Execute(ct);
        if (await ofApp >= limits.MaxUnfinishedTasksPerApp)
            return $"App '{app.Name}' already has {await ofApp} unfinished tasks: the limit per app (Access:Limits:MaxUnfinishedTasksPerApp) is {limits.MaxUnfinishedTasksPerApp}.";
        if (await ofSpace >= limits.MaxUnfinishedTasksPerSpace)
            return $"Space '{app.Space}' already has {await ofSpace} unfinished tasks: the limit per space (Access:Limits:MaxUnfinishedTasksPerSpace) is {limits.MaxUnfinishedTasksPerSpace}.";
        return null;
    }
}
