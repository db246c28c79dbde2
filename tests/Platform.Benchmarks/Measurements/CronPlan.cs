namespace Platform.Benchmarks.Measurements;

/// <summary>
/// The schedules both schedulers get: 1,000 second-resolution crons that each fire once in every 30-second
/// period, most spread over the 30 seconds, and a burst that all share one second. Over one period every
/// schedule fires once: 1,000 occurrences, the burst among them.
/// <para>
/// <paramref name="Idle"/> more schedules (the scaling row: 9,000 beside the 1,000) fire once a day, at a time
/// of day twelve hours away from the run, so never during it: the scheduler holds, reloads and scans ten
/// times the schedules while firing the same occurrences. All 10,000 firing every 30 s would be 333 tasks a
/// second, more than this machine runs, and the row would measure the executors' backlog, not the scheduler.
/// </para>
/// </summary>
public sealed record CronPlan(int Schedules, int Burst, int Idle = 0)
{
    /// <summary>Every schedule of the plan, the idle ones included.</summary>
    public int Total => Schedules + Idle;

    /// <summary>Cronos/Platform form of idle schedule <paramref name="i"/>: daily, twelve hours from <paramref name="now"/>.</summary>
    public static string IdleCron(int i, DateTimeOffset now)
    {
        var at = now.AddHours(12);
        return $"{i % 60} {at.Minute} {at.Hour} * * *";
    }

    public const int PeriodSeconds = 30;

    /// <summary>The second of the period (0..29) schedule <paramref name="i"/> fires at.</summary>
    public int SecondOf(int i) => i < Burst ? BurstSecond : i % PeriodSeconds;

    public const int BurstSecond = 17;

    /// <summary>Cronos/Platform form: six fields, seconds first.</summary>
    public string Cron(int i) => $"{SecondOf(i)}/{PeriodSeconds} * * * * *";

    /// <summary>Quartz form: day-of-week must be '?' when day-of-month is given.</summary>
    public string QuartzCron(int i) => $"{SecondOf(i)}/{PeriodSeconds} * * * * ?";

    /// <summary>
    /// The window measured: the first whole period that starts at least <paramref name="lead"/> from now,
    /// so that every schedule is registered and the scheduler has settled before it opens.
    /// </summary>
    public static (DateTimeOffset From, DateTimeOffset To) Window(TimeSpan lead)
    {
        var earliest = DateTimeOffset.UtcNow + lead;
        var seconds = earliest.ToUnixTimeSeconds();
        var from = DateTimeOffset.FromUnixTimeSeconds(seconds + (PeriodSeconds - seconds % PeriodSeconds) % PeriodSeconds);
        return (from, from.AddSeconds(PeriodSeconds));
    }
}
