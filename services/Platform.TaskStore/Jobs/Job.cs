namespace Platform.TaskStore.Jobs;

/// <summary>
/// A job: a task of an app to run on its schedules (or on demand), as <c>kf create-job</c> describes it.
/// Stored as a Marten document keyed by its name, which is unique. A null command or limit means "the
/// app's", read when each task is created.
/// </summary>
public sealed class Job
{
    /// <summary>Marten's table for these documents, for the few queries written in SQL.</summary>
    public const string TableName = "mt_doc_job";

    public string Name { get; set; } = "";
    public string App { get; set; } = "";

    /// <summary>The app's space, copied at creation (an app never changes space).</summary>
    public string Space { get; set; } = Access.Space.DefaultName;
    public string? Command { get; set; }
    public int? MemoryInMb { get; set; }
    public int? DiskInMb { get; set; }
    public ConcurrencyPolicy ConcurrencyPolicy { get; set; }

    /// <summary>As Kubernetes' <c>startingDeadlineSeconds</c>: a run that could not start within this many seconds of its occurrence is missed, not run late.</summary>
    public int? StartingDeadlineSeconds { get; set; }

    public JobState State { get; set; }

    /// <summary>
    /// When the job last became active (created or resumed). Occurrences before it are not due: a
    /// suspended job's occurrences are neither run nor counted as missed when it resumes.
    /// </summary>
    public DateTimeOffset ActiveSince { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What the Scheduler does when an occurrence is due while an earlier task of the job has not ended.</summary>
public enum ConcurrencyPolicy
{
    /// <summary>Run anyway (the default, as the Kf docs say).</summary>
    Always,

    /// <summary>Skip this occurrence, and record the skip.</summary>
    Forbid,

    /// <summary>Terminate the unfinished tasks, then run the new one.</summary>
    Replace,
}

public enum JobState
{
    Active,

    /// <summary>Schedules are kept but nothing fires.</summary>
    Suspended,

    /// <summary>Being deleted: nothing fires, and a run is refused, while its tasks are ended and removed.</summary>
    Deleting,
}
