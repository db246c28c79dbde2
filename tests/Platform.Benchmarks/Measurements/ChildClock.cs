namespace Platform.Benchmarks.Measurements;

/// <summary>
/// The task's own record of when it started: the command prints the wall clock in nanoseconds as its first
/// line. Platform, Hangfire and the benchmark share one machine and one clock, so the difference to the
/// moment the benchmark asked for the run is the dispatch latency.
/// </summary>
public static class ChildClock
{
    /// <summary>What every dispatch-latency task runs (through <c>/bin/sh -c</c>, on every system).</summary>
    public const string Command = "date +%s%N";

    /// <summary>Milliseconds from <paramref name="requestedAt"/> to the start the child printed; null if unreadable.</summary>
    public static double? LatencyMs(DateTimeOffset requestedAt, string? firstLine)
    {
        if (!long.TryParse(firstLine?.Trim(), out var nanoseconds)) return null;
        var requestedMs = (requestedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerMillisecond;
        return nanoseconds / 1e6 - requestedMs;
    }
}

/// <summary>
/// Sends requests at a steady rate, each at its due time, whatever the previous ones are doing: a slow
/// answer must not slow the offered load, or the latency it causes would hide itself.
/// </summary>
public static class SteadyRate
{
    /// <summary>How many requests of the last run failed (printed with their innermost error as they happen).</summary>
    public static int LastFailures { get; private set; }

    public static async Task<List<T>> RunAsync<T>(double perSecond, TimeSpan duration, Func<Task<T>> send, CancellationToken stop = default)
    {
        var failures = 0;
        var sent = new List<Task<T>>();
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; ; i++)
        {
            var due = started + TimeSpan.FromSeconds(i / perSecond);
            if (due - started >= duration || stop.IsCancellationRequested) break;
            var wait = due - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            sent.Add(Task.Run(send));
        }
        var results = new List<T>();
        foreach (var task in sent)
        {
            try
            {
                results.Add(await task);
            }
            catch (Exception ex)
            {
                failures++;
                Console.WriteLine($"  a request failed: {ex.Message} {ex.GetBaseException().Message}");
            }
        }
        LastFailures = failures;
        return results;
    }
}

/// <summary>What a dispatch-latency run found: latencies of the tasks after warm-up, and what went missing.</summary>
public sealed record DispatchResult(Infrastructure.Distribution LatencyMs, int Submitted, int Unmeasured, int RequestsFailed = 0)
{
    /// <summary>The rate the counted tasks were requested at, and the rate their processes started at.</summary>
    public double OfferedPerSecond { get; init; } = double.NaN;
    public double StartedPerSecond { get; init; } = double.NaN;

    /// <summary>The slowest tasks, each with when it was requested (seconds after the first counted request): whether a tail is one stall or spread out.</summary>
    public IReadOnlyList<(double SecondsIn, double LatencyMs)> Slowest { get; init; } = [];

    public override string ToString() =>
        $"{LatencyMs} ms; submitted {Submitted}, without a start time {Unmeasured}" + (RequestsFailed > 0 ? $", requests that failed {RequestsFailed}" : "")
        + (double.IsFinite(OfferedPerSecond) ? $"; offered {OfferedPerSecond:0.0}/s, started {StartedPerSecond:0.0}/s" : "")
        + (Slowest.Count > 0 ? "; slowest: " + string.Join(", ", Slowest.Select(t => FormattableString.Invariant($"{t.LatencyMs:0} ms at {t.SecondsIn:0.0} s"))) : "");
}
