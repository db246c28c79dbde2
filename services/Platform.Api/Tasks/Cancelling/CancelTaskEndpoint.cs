using Marten;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.Cancelling;
using Platform.TaskStore.Access;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks.Cancelling;

/// <summary>
/// <c>POST /v3/tasks/{guid}/actions/cancel</c>, as Cloud Foundry: 202 with the task. A pending task fails
/// at once and never starts; a running one goes CANCELING and its executor ends it (SIGTERM, then SIGKILL
/// after the grace period); an ended one is a 422.
/// </summary>
internal static class CancelTaskEndpoint
{
    public static async Task<IResult> Cancel(
        Guid guid, Caller caller, IQuerySession session, TaskCancellation cancellation, CancellationToken ct)
    {
        if (await session.LoadAsync<AppTask>(guid, ct) is not { } seen) return Problems.NotFound("Task", guid.ToString());
        if (await caller.RefuseAsync(seen.Space, Permission.CancelTasks, "Task", guid.ToString(), ct) is { } refused) return refused;
        var outcome = await cancellation.CancelAsync(guid, TaskLifecycle.CancelledReason, caller.Description, ct);
        if (outcome.Task is not { } task) return Problems.NotFound("Task", guid.ToString());
        if (outcome.Decision!.Refusal is { } refusal) return Problems.Invalid("state", refusal);
        return TypedResults.Accepted($"/v3/tasks/{guid}", TaskResource.From(task, caller));
    }
}
