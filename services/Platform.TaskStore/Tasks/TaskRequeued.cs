namespace Platform.TaskStore.Tasks;

/// <summary>
/// The executor running the task was lost and the task has attempts left: it is PENDING again, to be
/// dispatched no earlier than <see cref="RetryAt"/> (backoff), as attempt <see cref="Attempt"/>.
/// </summary>
public sealed record TaskRequeued(Guid TaskId, int Attempt, string Reason, DateTimeOffset RequeuedAt, DateTimeOffset RetryAt);
