namespace Platform.TaskStore.Tasks;

/// <summary>
/// Where a task came from when a job created it: the job, and for a scheduled run the schedule and the
/// occurrence it was fired for (both null for an ad hoc run of the job).
/// </summary>
public sealed record TaskOrigin(string Job, Guid? ScheduleId, DateTimeOffset? OccurrenceAt);
