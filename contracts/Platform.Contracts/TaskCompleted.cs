namespace Platform.Contracts;

/// <summary>
/// Event: a task that started reached a terminal state, <c>SUCCEEDED</c> or <c>FAILED</c>. Published once
/// per task that started: by the Executor that ran it, or, when that executor was lost, by whichever
/// worker service (Executor, Scheduler, Retention) recorded the task's failure. A task cancelled while
/// pending never started and has none (see <see cref="TaskTerminated"/>).
/// </summary>
public sealed record TaskCompleted
{
    /// <summary>The task's id.</summary>
    public required Guid TaskId { get; init; }

    /// <summary>The app the task belongs to.</summary>
    public required string App { get; init; }

    /// <summary>True when the process exited with code 0.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>The process's exit code; null when it never ran or was killed by a signal.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Why the task failed, in words a user reads (for example "exited with code 3"); null on success.</summary>
    public string? FailureReason { get; init; }

    /// <summary>The executor instance that ran the task.</summary>
    public required string Executor { get; init; }

    /// <summary>When the task ended.</summary>
    public required DateTimeOffset CompletedAt { get; init; }
}
