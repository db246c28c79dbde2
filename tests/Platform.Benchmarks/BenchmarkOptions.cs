namespace Platform.Benchmarks;

/// <summary>
/// How much work each measurement does. The full run fits in ten minutes on a 2-core machine; <c>--quick</c>
/// is for trying the program out while developing it (its figures are not for publishing).
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
    public static BenchmarkOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var options = quick
            ? new BenchmarkOptions(true, 10, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(1), 100, 200, 50_000, TimeSpan.FromSeconds(60), 50, 2_000, 100, 20, false)
            : new BenchmarkOptions(false, 20, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(3), 500, 1_000, 1_000_000, TimeSpan.FromSeconds(90), 200, 100_000, 1_000, 200, true);
        // --only=platform|hangfire|quartz runs one system, for development; the page is then not written.
        var only = args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal))?["--only=".Length..];
        if (quick) options = options with { WarmUpTasks = 100, WarmUpRounds = 2 };
        return options with { Only = only, WriteDocs = only is null && (options.WriteDocs && !args.Contains("--no-docs") || args.Contains("--docs")) };
    }
}
