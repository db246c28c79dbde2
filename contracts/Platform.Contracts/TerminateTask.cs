namespace Platform.Contracts;

/// <summary>
/// Command: end a running task. Published by the Api (a cancel, an app's or a job's deletion) and by the
/// Scheduler (a Job's Replace policy), after the cancel is recorded; every executor receives it (fan-out),
/// and the one running the task sends SIGTERM to its process tree, then SIGKILL after the grace period.
/// </summary>
public sealed record TerminateTask
{
    /// <summary>Required. The task to end.</summary>
    public required Guid TaskId { get; init; }

    /// <summary>Required. Why, recorded as the task's failure reason (for example "task was cancelled").</summary>
    public required string Reason { get; init; }

    /// <summary>Seconds between SIGTERM and SIGKILL; the executor's default (10) when null.</summary>
    public int? GracePeriodSeconds { get; init; }
}
