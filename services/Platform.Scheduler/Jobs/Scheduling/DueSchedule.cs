using Platform.TaskStore.Jobs;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>One active schedule as the loop holds it between reloads: what it belongs to, and how far it got.</summary>
internal sealed class DueSchedule(Job job, JobSchedule schedule, JobCron cron, DateTimeOffset since)
{
    public Job Job { get; } = job;
    public JobSchedule Schedule { get; } = schedule;
    public JobCron Cron { get; } = cron;

    /// <summary>The last occurrence handled (or the instant from which occurrences are due).</summary>
    public DateTimeOffset Since { get; private set; } = since;

    /// <summary>When the loop should next look at this schedule; null when the expression never fires again.</summary>
    public DateTimeOffset? NextDue { get; private set; } = OccurrencePlanner.NextDue(cron, since);

    public void HandledUpTo(DateTimeOffset occurrence)
    {
        if (occurrence <= Since) return;
        Since = occurrence;
        NextDue = OccurrencePlanner.NextDue(Cron, occurrence);
    }

    /// <summary>After a failure that is not the schedule's fault (database down), look again a little later.</summary>
    public void RetryAt(DateTimeOffset at) => NextDue = at;
}
