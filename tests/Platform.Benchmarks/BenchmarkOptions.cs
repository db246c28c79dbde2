namespace Platform.Benchmarks;

/// <summary>
/// How much work each measurement does. The full run must fit in fifteen minutes on a 2-core machine; <c>--quick</c>
/// is for trying the program out while developing it (its figures are not for publishing). The scaling rows
/// (how cost grows) repeat four measures at a larger size; <c>--only=scaling</c> runs them alone.
/// </summary>
public sealed record BenchmarkOptions(
    bool Quick,
    double DispatchPerSecond,
    TimeSpan DispatchDuration,
    TimeSpan DispatchWarmUp,
    int SandboxedThroughputTasks,
    int UnsandboxedThroughputTasks,
    long ReadPathEvents,
    TimeSpan SeedingBudget,
    int ReadPathRequests,
    int RetentionTasks,
    int Schedules,
    int ScheduleBurst,
    bool WriteDocs,
    string? Only = null,
    int WarmUpTasks = 300,
    int WarmUpRounds = 8)
{
    /// <summary>Offered rates of the dispatch series beyond <see cref="DispatchPerSecond"/> (unsandboxed).</summary>
    public IReadOnlyList<double> DispatchRates { get; init; } = [];

    /// <summary>
    /// How long each rate of the series is offered, and the part of it not counted. Shorter than measure 1's:
    /// beyond saturation every second offered is a backlog of seconds to drain, and at 200/s a 15-s window
    /// kept the run waiting 90 s for the processes of tasks that only showed what a shorter window shows.
    /// </summary>
    public TimeSpan DispatchSeriesDuration { get; init; } = TimeSpan.FromSeconds(6);
    public TimeSpan DispatchSeriesWarmUp { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Schedules that do not fire during the run, added beside <see cref="Schedules"/> for the larger lateness row.</summary>
    public int IdleSchedules { get; init; }

    /// <summary>Events in the store for the larger read-path row, and the time seeding up to it may take.</summary>
    public long ReadPathEventsLarge { get; init; }
    public TimeSpan LargeSeedingBudget { get; init; }

    /// <summary>Finished tasks of the larger retention row.</summary>
    public int RetentionTasksLarge { get; init; }

    /// <summary>Whether the scaling rows are measured (the full run and <c>--only=scaling</c>; not the other single measures).</summary>
    public bool Scaling => Only is null or "platform" or "scaling";

    public static BenchmarkOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var options = quick
            ? new BenchmarkOptions(true, 10, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(1), 100, 200, 50_000, TimeSpan.FromSeconds(60), 50, 2_000, 100, 20, false)
            : new BenchmarkOptions(false, 20, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(3), 500, 1_000, 1_000_000, TimeSpan.FromSeconds(90), 200, 100_000, 1_000, 200, true);
        // --only=platform|hangfire|quartz|scaling|... runs one part, for development; the page is then not written.
        var only = args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal))?["--only=".Length..];
        options = quick
            ? options with { WarmUpTasks = 100, WarmUpRounds = 2, DispatchRates = [50, 100], DispatchSeriesWarmUp = TimeSpan.FromSeconds(1), IdleSchedules = 900, ReadPathEventsLarge = 300_000, LargeSeedingBudget = TimeSpan.FromSeconds(60), RetentionTasksLarge = 20_000 }
            : options with { DispatchRates = [50, 100, 200], IdleSchedules = 9_000, ReadPathEventsLarge = 10_000_000, LargeSeedingBudget = TimeSpan.FromSeconds(300), RetentionTasksLarge = 1_000_000 };
        // --dispatch-rate=N offers measure 1 another rate, e.g. one below a slow machine's sandboxed capacity, where
        // the figure is a task's own dispatch rather than a backlog's wait; the page is then not written.
        var rate = args.FirstOrDefault(a => a.StartsWith("--dispatch-rate=", StringComparison.Ordinal))?["--dispatch-rate=".Length..];
        if (rate is not null)
        {
            if (!double.TryParse(rate, System.Globalization.CultureInfo.InvariantCulture, out var perSecond) || perSecond is <= 0 or > 1000)
                throw new ArgumentException($"--dispatch-rate must be a number of tasks per second above 0 and at most 1000, not '{rate}'");
            options = options with { DispatchPerSecond = perSecond, WriteDocs = false };
        }
        return options with { Only = only, WriteDocs = only is null && rate is null && (options.WriteDocs && !args.Contains("--no-docs") || args.Contains("--docs")) };
    }
}
