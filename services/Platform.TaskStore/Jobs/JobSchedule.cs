namespace Platform.TaskStore.Jobs;

/// <summary>
/// One cron schedule of a job (a job may have several, as the PCF Scheduler allows). Occurrences are due
/// from <see cref="CreatedAt"/> on, in <see cref="TimeZone"/>.
/// </summary>
public sealed class JobSchedule
{
    /// <summary>Marten's table for these documents, for the few queries written in SQL.</summary>
    public const string TableName = "mt_doc_jobschedule";

    public Guid Id { get; set; }
    public string Job { get; set; } = "";

    /// <summary>5 fields (minute precision) or 6 (with seconds first), as Cronos parses them.</summary>
    public string Cron { get; set; } = "";

    /// <summary>An IANA time zone id, for example <c>Europe/Berlin</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    public DateTimeOffset CreatedAt { get; set; }
}
