namespace Platform.TaskStore.Tasks;

/// <summary>Someone asked to end the task; a running task is <c>CANCELING</c> until its process tree is gone.</summary>
public sealed record TaskCancelRequested(Guid TaskId, string Reason, DateTimeOffset RequestedAt);
