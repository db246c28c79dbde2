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

    /// <summary>
    /// How long before its time an occurrence of an Always job is fired: its records and its task written, so
    /// that at the time itself only the RunTask is left to publish (Quartz's fire-ahead window, for the same
    /// reason: the transaction, not the publish, is most of a firing's cost, and a burst of occurrences due in
    /// one second queued behind each other's transactions). The RunTask is still published at the occurrence's
    /// time, never before; the task's record shows up, PENDING, this much earlier, and a job suspended or
    /// deleted within this window before an occurrence still runs it. Forbid and Replace jobs decide on the
    /// job's running tasks and fire at the time itself. 0 turns it off. Keep it well under the executors'
    /// <c>RedispatchAfter</c>, which would otherwise publish such a task early.
    /// </summary>
    [Range(0, 5000)]
    public int FireAheadMilliseconds { get; set; } = 1000;

    public TimeSpan FireAhead => TimeSpan.FromMilliseconds(FireAheadMilliseconds);

    /// <summary>At most this many missed occurrences of one schedule are recorded one by one after an outage.</summary>
    [Range(1, 10_000)]
    public int MaxMissedRecorded { get; set; } = 100;

    /// <summary>
    /// For rehearsals and tests only: the scheduler's clock starts at this instant and runs at real speed
    /// from there (for example to live through a daylight-saving change in seconds). Unset in production.
    /// </summary>
    public DateTimeOffset? ClockStart { get; set; }
}
