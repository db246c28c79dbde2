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

    // NextDue is a retry's time rather than an occurrence's: it is not fired ahead of that.
    private bool _retrying;

    /// <summary>
    /// Whether the next occurrence may be fired ahead of its time (<see cref="SchedulerOptions.FireAhead"/>):
    /// only an Always job's, which does not depend on what else of the job is running at the time.
    /// </summary>
    public bool FiresAhead => Job.ConcurrencyPolicy == ConcurrencyPolicy.Always && !_retrying;

    /// <summary>When the loop should fire this schedule, given the fire-ahead window; null when never.</summary>
    public DateTimeOffset? FireAt(TimeSpan ahead) => FiresAhead ? NextDue - ahead : NextDue;

    /// <summary>The instant its occurrences are planned for: the next one's time when fired ahead of it, otherwise now.</summary>
    public DateTimeOffset PlanAt(DateTimeOffset now) => FiresAhead && NextDue > now ? NextDue.Value : now;

    public void HandledUpTo(DateTimeOffset occurrence)
    {
        if (occurrence <= Since) return;
        Since = occurrence;
        NextDue = OccurrencePlanner.NextDue(Cron, occurrence);
        _retrying = false;
    }

    /// <summary>After a failure that is not the schedule's fault (database down), look again a little later.</summary>
    public void RetryAt(DateTimeOffset at)
    {
        NextDue = at;
        _retrying = true;
    }
}
