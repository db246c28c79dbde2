using Platform.TaskStore.Jobs;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>An occurrence that will not run, and why.</summary>
public sealed record MissedOccurrence(DateTimeOffset At, string Reason);

/// <summary>
/// What to do with one schedule now: record <see cref="Missed"/>, fire <see cref="Fire"/> (if any), and
/// remember <see cref="Handled"/> as the last occurrence dealt with. <see cref="EarlierMissedNotRecorded"/>
/// says that even older occurrences were missed than the ones listed (only the most recent are recorded).
/// </summary>
public sealed record OccurrencePlan(
    IReadOnlyList<MissedOccurrence> Missed, DateTimeOffset? Fire, DateTimeOffset? Handled, bool EarlierMissedNotRecorded)
{
    public static readonly OccurrencePlan Nothing = new([], null, null, false);
}

/// <summary>
/// The Scheduler's decision, as a pure function of a schedule, the last occurrence already handled, the
/// time now and the job's starting deadline. Cron semantics are Cronos': in a daylight-saving gap an
/// occurrence runs at the first moment after the gap; in an overlap a non-interval expression runs once
/// (at its first instance), an interval one (<c>*/15</c>, ranges) in both offsets.
/// </summary>
public static class OccurrencePlanner
{
    public const string SupersededReason = "missed: the scheduler was not running, and only the most recent missed occurrence runs";

    /// <summary>The first occurrence after <paramref name="since"/>; null when the expression never fires again.</summary>
    public static DateTimeOffset? NextDue(JobCron cron, DateTimeOffset since) =>
        cron.Expression.GetNextOccurrence(since, cron.Zone, inclusive: false);

    /// <summary>
    /// Occurrences after <paramref name="since"/> up to and including <paramref name="now"/>: the most
    /// recent fires (as Kubernetes does after downtime), unless it is older than the starting deadline;
    /// every other one is missed. At most <paramref name="maxMissedRecorded"/> missed ones are listed, the
    /// most recent, so that a long outage of a per-second schedule stays a bounded amount of work.
    /// </summary>
    public static OccurrencePlan Plan(JobCron cron, DateTimeOffset since, DateTimeOffset now, TimeSpan? startingDeadline, int maxMissedRecorded)
    {
        var due = LatestOccurrences(cron, since, now, maxMissedRecorded + 1, out var truncated);
        if (due.Count == 0) return OccurrencePlan.Nothing;

        var latest = due[^1];
        var missed = due.Take(due.Count - 1).Select(at => new MissedOccurrence(at, SupersededReason)).ToList();
        DateTimeOffset? fire = latest;
        if (startingDeadline is { } deadline && now - latest > deadline)
        {
            missed.Add(new MissedOccurrence(latest,
                $"missed: it could not start within the job's starting deadline of {deadline.TotalSeconds:0} s (it was {(now - latest).TotalSeconds:0} s late)"));
            fire = null;
        }
        if (missed.Count > maxMissedRecorded)
        {
            missed.RemoveRange(0, missed.Count - maxMissedRecorded);
            truncated = true;
        }
        return new OccurrencePlan(missed, fire, latest, truncated);
    }

    /// <summary>
    /// The last <paramref name="count"/> occurrences in (since, now], found by looking back from now in
    /// growing windows, so that the cost depends on <paramref name="count"/>, not on how long ago since was.
    /// </summary>
    private static List<DateTimeOffset> LatestOccurrences(JobCron cron, DateTimeOffset since, DateTimeOffset now, int count, out bool truncated)
    {
        truncated = false;
        if (now <= since) return [];
        var window = TimeSpan.FromMinutes(1);
        while (true)
        {
            var reachedSince = now - since <= window;
            var from = reachedSince ? since : now - window;
            var found = cron.Expression.GetOccurrences(from, now, cron.Zone, fromInclusive: false, toInclusive: true).ToList();
            if (found.Count > count)
            {
                truncated = true;
                return found.GetRange(found.Count - count, count);
            }
            if (reachedSince) return found;
            window = window * 4;
        }
    }
}
