namespace Platform.TaskStore.Jobs;

/// <summary>
/// What became of one occurrence of a schedule: fired (with the task it created), skipped by the job's
/// concurrency policy, or missed (the Scheduler was down, or the starting deadline had passed). Its id is
/// the occurrence's deterministic id (<see cref="OccurrenceIds"/>), so two Schedulers can never record
/// the same occurrence twice: the second insert fails and its whole transaction with it.
/// </summary>
public sealed class JobOccurrence
{
    public Guid Id { get; set; }
    public string Job { get; set; } = "";
    public Guid ScheduleId { get; set; }
    public DateTimeOffset OccurrenceAt { get; set; }
    public OccurrenceOutcome Outcome { get; set; }

    /// <summary>The task created for a fired occurrence (the same id as the occurrence).</summary>
    public Guid? TaskId { get; set; }

    /// <summary>Why it was skipped or missed, in a user's words.</summary>
    public string? Reason { get; set; }

    /// <summary>When the Scheduler decided (for a fired one: just before it published <c>RunTask</c>).</summary>
    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>The Scheduler instance that decided.</summary>
    public string Scheduler { get; set; } = "";
}

public enum OccurrenceOutcome
{
    Fired,
    Skipped,
    Missed,
}
