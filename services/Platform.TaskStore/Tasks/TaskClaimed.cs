namespace Platform.TaskStore.Tasks;

/// <summary>An executor won the task (appended at the stream's expected version) and is starting it.</summary>
public sealed record TaskClaimed(Guid TaskId, string Executor, DateTimeOffset ClaimedAt);
