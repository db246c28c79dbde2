using Platform.Api.Access;
using Platform.TaskStore.Access;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks;

/// <summary>A task in Cloud Foundry v3's shape (<c>guid</c>, <c>sequence_id</c>, <c>state</c>, <c>result.failure_reason</c> ...).</summary>
internal sealed record TaskResource(
    Guid Guid,
    long SequenceId,
    string Name,
    string Command,
    string State,
    int MemoryInMb,
    int DiskInMb,
    int? TimeoutSeconds,
    int Attempt,
    int MaxAttempts,
    TaskResult Result,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    TaskRelationships Relationships,
    TaskJob? Job,
    TaskLinks Links)
{
    /// <summary>The task as <paramref name="caller"/> may see it: the command redacted unless its role shows commands.</summary>
    public static TaskResource From(AppTask task, Caller caller) => new(
        task.Id,
        task.SequenceId,
        task.Name,
        caller.May(task.Space, Permission.SeeCommands) ? task.Command : RolePermissions.Redacted,
        task.State.ToWire(),
        task.MemoryInMb,
        task.DiskInMb,
        task.TimeoutSeconds,
        task.Attempt,
        task.MaxAttempts,
        new TaskResult(task.FailureReason, task.ExitCode),
        task.CreatedAt,
        task.UpdatedAt,
        new TaskRelationships(new AppRelationship(new AppRef(task.App))),
        task.Job is null ? null : new TaskJob(task.Job, task.ScheduleId, task.OccurrenceAt),
        new TaskLinks(new Http.Link($"/v3/tasks/{task.Id}"), new Http.Link($"/v3/apps/{task.App}"), new Http.Link($"/v3/tasks/{task.Id}/logs")));
}

/// <summary>The job a task came from, and for a scheduled run the schedule and the occurrence it was fired for.</summary>
internal sealed record TaskJob(string Name, Guid? ScheduleGuid, DateTimeOffset? OccurrenceAt);

internal sealed record TaskResult(string? FailureReason, int? ExitCode);

internal sealed record TaskRelationships(AppRelationship App);

internal sealed record AppRelationship(AppRef Data);

internal sealed record AppRef(string Name);

internal sealed record TaskLinks(Http.Link Self, Http.Link App, Http.Link Logs);
