using Platform.Contracts;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// The one place each bus message about a task is made, from what was stored for it: <see cref="RunTask"/>
/// for every dispatcher (the Api, the Scheduler, the re-dispatcher), <see cref="TaskStarted"/> from a claim,
/// <see cref="TaskCompleted"/> from a recorded end (an executor's, or a lost executor's reaped), and what a
/// recorded cancel announces (<see cref="Cancelled"/>).
/// </summary>
public static class TaskMessages
{
    public static RunTask RunTask(AppTask task) => new()
    {
        TaskId = task.Id,
        App = task.App,
        Command = task.Command,
        Name = task.Name,
        MemoryInMb = task.MemoryInMb,
        DiskInMb = task.DiskInMb,
        Env = task.Env,
        TimeoutSeconds = task.TimeoutSeconds,
        TerminationGracePeriodSeconds = task.TerminationGracePeriodSeconds,
        MaxAttempts = task.MaxAttempts,
    };

    /// <summary>An executor's claim (<see cref="TaskClaimed"/>) of the task with this app and sequence id.</summary>
    public static TaskStarted Started(Guid taskId, string app, long sequenceId, string executor, DateTimeOffset claimedAt) => new()
    {
        TaskId = taskId,
        App = app,
        SequenceId = sequenceId,
        Executor = executor,
        StartedAt = claimedAt,
    };

    /// <summary>
    /// A task's recorded end (<see cref="TaskLifecycle.Complete"/> or a lost executor's <see cref="TaskFailed"/>): succeeded
    /// exactly when it exited 0 with no failure reason, as the stored event says.
    /// </summary>
    public static TaskCompleted Completed(Guid taskId, string app, int? exitCode, string? failureReason, string executor, DateTimeOffset endedAt) => new()
    {
        TaskId = taskId,
        App = app,
        Succeeded = exitCode == 0 && failureReason is null,
        ExitCode = exitCode,
        FailureReason = failureReason,
        Executor = executor,
        CompletedAt = endedAt,
    };

    /// <summary>A task ended on request (cancel, timeout, deletion, Replace) rather than by its own exit.</summary>
    public static TaskTerminated Terminated(Guid taskId, string app, string reason, DateTimeOffset terminatedAt) => new()
    {
        TaskId = taskId,
        App = app,
        Reason = reason,
        TerminatedAt = terminatedAt,
    };

    /// <summary>
    /// What a recorded cancel announces: <see cref="TerminateTask"/> to the executors for a running task, or
    /// <see cref="TaskTerminated"/> for a pending one that ended there without an executor; nothing for a
    /// refused cancel or an unknown task.
    /// </summary>
    public static IEnumerable<object> Cancelled(CancelOutcome outcome, int? gracePeriodSeconds)
    {
        if (outcome is not { Task: { } task, Decision: { Refusal: null } decision }) yield break;
        if (decision.TerminateProcess)
            yield return new TerminateTask { TaskId = task.Id, Reason = task.CancelReason ?? TaskLifecycle.CancelledReason, GracePeriodSeconds = gracePeriodSeconds };
        else if (decision.Events.Count > 0)
            yield return Terminated(task.Id, task.App, task.FailureReason ?? TaskLifecycle.CancelledReason, outcome.At);
    }
}
