using Marten.Events.Aggregation;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// The read model of one task, projected inline from its stream. Named AppTask, not Task, so that it
/// never collides with <see cref="System.Threading.Tasks.Task"/>.
/// </summary>
public sealed class AppTask
{
    /// <summary>Marten's table for these documents, for the few queries written in SQL.</summary>
    public const string TableName = "mt_doc_apptask";

    // The fields that have a column of their own beside the JSON (Marten duplicated fields, kept in step by
    // Marten on every write), so that the queries written in SQL filter and count on indexed columns.

    /// <summary>The column <see cref="App"/> is duplicated into (indexed).</summary>
    public const string AppColumn = "app";

    /// <summary>The column <see cref="State"/> is duplicated into, as the enum's name (indexed for unfinished tasks only).</summary>
    public const string StateColumn = "state";

    /// <summary>The column <see cref="Space"/> is duplicated into (indexed for unfinished tasks only).</summary>
    public const string SpaceColumn = "space";

    /// <summary>The column <see cref="Job"/> is duplicated into (indexed).</summary>
    public const string JobColumn = "job";

    public Guid Id { get; set; }
    public string App { get; set; } = "";

    /// <summary>The app's space, copied at acceptance (an app never changes space), so an access check needs no second read.</summary>
    public string Space { get; set; } = Access.Space.DefaultName;
    public long SequenceId { get; set; }
    public string Name { get; set; } = "";
    public string Command { get; set; } = "";
    public int MemoryInMb { get; set; }
    public int DiskInMb { get; set; }
    public Dictionary<string, string> Env { get; set; } = new();
    public TaskState State { get; set; }
    public int? ExitCode { get; set; }
    public string? FailureReason { get; set; }
    public string? Executor { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public int? TimeoutSeconds { get; set; }
    public int? TerminationGracePeriodSeconds { get; set; }
    public string? CancelReason { get; set; }
    public int Dispatches { get; set; } = 1;
    public int Attempt { get; set; } = 1;
    public int MaxAttempts { get; set; } = 1;
    public DateTimeOffset? RetryAt { get; set; }

    /// <summary>The job that created the task; null for a task run directly.</summary>
    public string? Job { get; set; }

    /// <summary>The job's schedule that fired the task; null for a direct task or an ad hoc run of a job.</summary>
    public Guid? ScheduleId { get; set; }

    /// <summary>The schedule's occurrence the task was fired for.</summary>
    public DateTimeOffset? OccurrenceAt { get; set; }
}

/// <summary>Builds <see cref="AppTask"/> from a task stream; each step is a <see cref="TaskLifecycle"/> rule.</summary>
public sealed class AppTaskProjection : SingleStreamProjection<AppTask, Guid>
{
    public static AppTask Create(TaskAccepted e) => TaskLifecycle.Accept(e);

    public static AppTask Apply(TaskClaimed e, AppTask task) => TaskLifecycle.Apply(task, e);

    public static AppTask Apply(TaskRedispatched e, AppTask task) => TaskLifecycle.Apply(task, e);

    public static AppTask Apply(TaskRequeued e, AppTask task) => TaskLifecycle.Apply(task, e);

    public static AppTask Apply(TaskCancelRequested e, AppTask task) => TaskLifecycle.Apply(task, e);

    public static AppTask Apply(TaskSucceeded e, AppTask task) => TaskLifecycle.Apply(task, e);

    public static AppTask Apply(TaskFailed e, AppTask task) => TaskLifecycle.Apply(task, e);
}
