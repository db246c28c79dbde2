using System.ComponentModel.DataAnnotations;
using Platform.ServiceDefaults;

namespace Platform.Scheduler;

/// <summary>How one Scheduler instance runs. Any number may run side by side; each occurrence still fires once.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>This instance's name, recorded on every occurrence it handles.</summary>
    [Required]
    public string Name { get; set; } = ServiceDefaultsRegistration.ReplicaName;

    /// <summary>
    /// A full reload of jobs and schedules at least this often. Changes made through the Api arrive at once
    /// by NOTIFY; this only bounds how long a lost notification could go unnoticed.
    /// </summary>
    [Range(1, 3600)]
    public int ReloadSeconds { get; set; } = 30;

    /// <summary>How many firings (a batch, or one schedule) this instance runs at once when many are due together.</summary>
    [Range(1, 256)]
    public int MaxParallelFirings { get; set; } = 16;

    /// <summary>How many due schedules of Always jobs are fired in one transaction. 1 fires each on its own.</summary>
    [Range(1, 500)]
    public int FiringBatchSize { get; set; } = 25;

    /// <summary>At most this many missed occurrences of one schedule are recorded one by one after an outage.</summary>
    [Range(1, 10_000)]
    public int MaxMissedRecorded { get; set; } = 100;

    /// <summary>
    /// For rehearsals and tests only: the scheduler's clock starts at this instant and runs at real speed
    /// from there (for example to live through a daylight-saving change in seconds). Unset in production.
    /// </summary>
    public DateTimeOffset? ClockStart { get; set; }
}
