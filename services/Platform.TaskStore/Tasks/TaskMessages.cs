using Platform.Contracts;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// The one translation from a task's stored state to the bus messages about it, for every service that
/// dispatches a task (the Api, the Scheduler, the re-dispatcher) or announces a cancel (the Api, the
/// Scheduler's Replace policy).
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

    /// <summary>
    /// What a recorded cancel announces: <see cref="TerminateTask"/> to the executors for a running task, or
    /// <see cref="TaskTerminated"/> for a pending one that ended here without an executor; nothing else.
    /// </summary>
    public static IEnumerable<object> Cancelled(CancelOutcome outcome, int? gracePeriodSeconds)
    {
        if (outcome is not { Task: { } task, Decision: { Refusal: null } decision }) yield break;
        if (decision.TerminateProcess)
            yield return new TerminateTask { TaskId = task.Id, Reason = task.CancelReason ?? TaskLifecycle.CancelledReason, GracePeriodSeconds = gracePeriodSeconds };
        else if (decision.Events.Count > 0)
            yield return new TaskTerminated { TaskId = task.Id, App = task.App, Reason = task.FailureReason ?? TaskLifecycle.CancelledReason, TerminatedAt = outcome.At };
    }
}
