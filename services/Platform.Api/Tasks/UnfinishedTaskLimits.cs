using Microsoft.Extensions.Options;
using Platform.Api.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks;

/// <summary>
/// Cloud Foundry's <c>per_app_tasks</c>, and the same per space: how many unfinished (pending, running,
/// cancelling) tasks may exist before a new one is refused with a 422 that names the limit.
/// </summary>
internal sealed class UnfinishedTaskLimits(IOptions<AccessOptions> options, UnfinishedTasks unfinished)
{
    /// <returns>Null while both limits hold; otherwise why the task is refused.</returns>
    public async Task<string?> ExceededAsync(App app, CancellationToken ct)
    {
        var limits = options.Value.Limits;
        var (ofApp, ofSpace) = await unfinished.CountAsync(app.Name, app.Space, ct);
        if (ofApp >= limits.MaxUnfinishedTasksPerApp)
            return $"App '{app.Name}' already has {ofApp} unfinished tasks: the limit per app (Access:Limits:MaxUnfinishedTasksPerApp) is {limits.MaxUnfinishedTasksPerApp}.";
        if (ofSpace >= limits.MaxUnfinishedTasksPerSpace)
            return $"Space '{app.Space}' already has {ofSpace} unfinished tasks: the limit per space (Access:Limits:MaxUnfinishedTasksPerSpace) is {limits.MaxUnfinishedTasksPerSpace}.";
        return null;
    }
}
