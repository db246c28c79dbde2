namespace Platform.TaskStore.Tasks;

/// <summary>The task ended without success; <see cref="Reason"/> says why in a user's words.</summary>
public sealed record TaskFailed(Guid TaskId, int? ExitCode, string Reason, DateTimeOffset FailedAt, string? Executor = null);
