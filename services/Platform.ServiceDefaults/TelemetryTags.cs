namespace Platform.ServiceDefaults;

/// <summary>
/// The attribute names and values every Platform service puts on its spans and metrics, so that a
/// dashboard can join a task's spans from the Api, the executors and the scheduler on the same keys.
/// </summary>
public static class TelemetryTags
{
    public const string TaskId = "task.id";
    public const string TaskName = "task.name";
    public const string AppName = "app.name";
    public const string JobName = "job.name";
    public const string JobScheduleId = "job.schedule.id";
    public const string JobOccurrenceAt = "job.occurrence_at";
    public const string TaskOutcome = "task.outcome";

    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}
