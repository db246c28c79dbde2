namespace Platform.TaskStore.Tasks;

/// <summary>
/// The task state machine as pure functions: how each stored event moves a task, and what an executor
/// may decide from a task's current state. A terminal state is never left, whatever arrives late.
/// </summary>
public static class TaskLifecycle
{
    public static AppTask Accept(TaskAccepted e) => new()
    {
        Id = e.TaskId,
        App = e.App,
        Space = e.Space ?? Access.Space.DefaultName,
        SequenceId = e.SequenceId,
        Name = e.Name,
        Command = e.Command,
        MemoryInMb = e.MemoryInMb,
        DiskInMb = e.DiskInMb,
        Env = new Dictionary<string, string>(e.Env),
        State = TaskState.Pending,
        CreatedAt = e.AcceptedAt,
        UpdatedAt = e.AcceptedAt,
        TimeoutSeconds = e.TimeoutSeconds,
        TerminationGracePeriodSeconds = e.TerminationGracePeriodSeconds,
        MaxAttempts = e.MaxAttempts,
        Job = e.Origin?.Job,
        ScheduleId = e.Origin?.ScheduleId,
        OccurrenceAt = e.Origin?.OccurrenceAt,
    };

    public static AppTask Apply(AppTask task, TaskClaimed e)
    {
        if (task.State != TaskState.Pending) return task;
        task.State = TaskState.Running;
        task.Executor = e.Executor;
        task.StartedAt = e.ClaimedAt;
        task.UpdatedAt = e.ClaimedAt;
        return task;
    }

    public static AppTask Apply(AppTask task, TaskRedispatched e)
    {
        if (task.State != TaskState.Pending) return task;
        task.Dispatches++;
        task.RetryAt = null;
        task.UpdatedAt = e.RedispatchedAt;
        return task;
    }

    public static AppTask Apply(AppTask task, TaskRequeued e)
    {
        if (task.State != TaskState.Running) return task;
        task.State = TaskState.Pending;
        task.Attempt = e.Attempt;
        task.Executor = null;
        task.StartedAt = null;
        task.RetryAt = e.RetryAt;
        task.UpdatedAt = e.RequeuedAt;
        return task;
    }

    /// <summary>
    /// What happens to a task whose executor was lost: run again while it has attempts left (never a task
    /// being cancelled), with exponential backoff from <paramref name="firstBackoff"/>; otherwise it fails.
    /// </summary>
    public static object Orphaned(AppTask task, string reason, string? executor, DateTimeOffset at, TimeSpan firstBackoff) =>
        task.State == TaskState.Running && task.Attempt < task.MaxAttempts
            ? new TaskRequeued(task.Id, task.Attempt + 1, reason, at, at + firstBackoff * Math.Pow(2, task.Attempt - 1))
            : new TaskFailed(task.Id, null, reason, at, executor);

    public static AppTask Apply(AppTask task, TaskCancelRequested e)
    {
        if (task.State.IsTerminal()) return task;
        task.CancelReason = e.Reason;
        // A pending task is failed in the same append; only a running one waits in CANCELING for its process.
        if (task.State == TaskState.Running) task.State = TaskState.Canceling;
        task.UpdatedAt = e.RequestedAt;
        return task;
    }

    public static AppTask Apply(AppTask task, TaskSucceeded e)
    {
        if (task.State.IsTerminal()) return task;
        task.State = TaskState.Succeeded;
        task.ExitCode = e.ExitCode;
        task.Executor = e.Executor ?? task.Executor;
        task.EndedAt = e.SucceededAt;
        task.UpdatedAt = e.SucceededAt;
        return task;
    }

    public static AppTask Apply(AppTask task, TaskFailed e)
    {
        if (task.State.IsTerminal()) return task;
        task.State = TaskState.Failed;
        task.ExitCode = e.ExitCode;
        task.Executor = e.Executor ?? task.Executor;
        task.FailureReason = e.Reason;
        task.EndedAt = e.FailedAt;
        task.UpdatedAt = e.FailedAt;
        return task;
    }

    /// <summary>An executor may claim only a task that is still pending; anything else is a duplicate delivery.</summary>
    public static bool CanClaim(AppTask task) => task.State == TaskState.Pending;

    /// <summary>The terminal event for a process that exited (or could not start).</summary>
    public static object Complete(Guid taskId, int? exitCode, string? failureReason, DateTimeOffset at, string? executor = null) =>
        exitCode == 0 && failureReason is null
            ? new TaskSucceeded(taskId, 0, at, executor)
            : new TaskFailed(taskId, exitCode, failureReason ?? $"exited with code {exitCode}", at, executor);

    /// <summary>The reason a cancelled task ends with, as Cloud Foundry words it.</summary>
    public const string CancelledReason = "task was cancelled";

    /// <summary>
    /// What a cancel request does: a pending task fails at once and never starts; a running one moves to
    /// CANCELING and its executor is told to end it; a canceling one is told again (the request is
    /// idempotent); an ended one cannot be cancelled.
    /// </summary>
    public static CancelDecision Cancel(AppTask task, string reason, DateTimeOffset at) => task.State switch
    {
        TaskState.Pending => new CancelDecision([new TaskCancelRequested(task.Id, reason, at), new TaskFailed(task.Id, null, reason, at)], TerminateProcess: false, Refusal: null),
        TaskState.Running => new CancelDecision([new TaskCancelRequested(task.Id, reason, at)], TerminateProcess: true, Refusal: null),
        TaskState.Canceling => new CancelDecision([], TerminateProcess: true, Refusal: null),
        _ => new CancelDecision([], TerminateProcess: false, Refusal: $"The task already ended ({task.State.ToWire()}); only a PENDING or RUNNING task can be cancelled."),
    };
}
