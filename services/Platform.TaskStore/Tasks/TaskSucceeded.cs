namespace Platform.TaskStore.Tasks;

/// <summary>The task's process exited with code 0.</summary>
public sealed record TaskSucceeded(Guid TaskId, int ExitCode, DateTimeOffset SucceededAt, string? Executor = null);
