namespace Platform.TaskStore.Jobs;

/// <summary>
/// How far the Scheduler got with one schedule: the last occurrence it handled (fired, skipped or recorded
/// as missed). Kept apart from <see cref="JobSchedule"/> so that the Scheduler's writes never race the
/// Api's edits of the schedule; a restarted Scheduler reads it to know which occurrences it missed.
/// </summary>
public sealed class ScheduleProgress
{
    /// <summary>The schedule's id.</summary>
    public Guid Id { get; set; }

    public string Job { get; set; } = "";
    public DateTimeOffset LastOccurrenceAt { get; set; }
}
