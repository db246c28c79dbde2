namespace Platform.Contracts;

/// <summary>
/// Event: a task was ended on request (cancel, timeout, job deletion) rather than by its own exit.
/// Published by the Executor after the process tree is gone, alongside the task's <see cref="TaskCompleted"/>.
/// </summary>
public sealed record TaskTerminated
{
    /// <summary>The task's id.</summary>
    public required Guid TaskId { get; init; }

    /// <summary>The app the task belongs to.</summary>
    public required string App { get; init; }

    /// <summary>Why it was terminated, for example "task was cancelled".</summary>
    public required string Reason { get; init; }

    /// <summary>When the process tree was gone.</summary>
    public required DateTimeOffset TerminatedAt { get; init; }
}
