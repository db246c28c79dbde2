namespace Platform.Contracts;

/// <summary>
/// Event: a task was ended on request (cancel, timeout, an app's or a job's deletion, a Replace policy)
/// rather than by its own exit. For a running task the Executor publishes it after the process tree is
/// gone, alongside the task's <see cref="TaskCompleted"/>. For a task cancelled while still pending, the
/// service that cancelled it (the Api, or the Scheduler for Replace) publishes it alone: no executor ran
/// the task, so no <see cref="TaskCompleted"/> follows.
/// </summary>
public sealed record TaskTerminated
{
    /// <summary>The task's id.</summary>
    public required Guid TaskId { get; init; }

    /// <summary>The app the task belongs to.</summary>
    public required string App { get; init; }

    /// <summary>Why it was terminated, for example "task was cancelled".</summary>
    public required string Reason { get; init; }

    /// <summary>When the process tree was gone (for a pending task: when the cancel was recorded).</summary>
    public required DateTimeOffset TerminatedAt { get; init; }
}
