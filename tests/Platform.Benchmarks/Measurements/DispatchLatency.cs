using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>
/// Measure 1: from "run this" (the benchmark sends POST /v3/apps/{app}/tasks) to the task's process
/// starting (the time the child itself printed, read back from task_logs), at a steady moderate rate.
/// Tasks sent during the warm-up are run but not counted.
/// </summary>
public sealed class DispatchLatency(PlatformClient platform)
{
    public async Task<DispatchResult> MeasureAsync(string app, double perSecond, TimeSpan duration, TimeSpan warmUp, CancellationToken stop = default)
    {
        var submitted = await SteadyRate.RunAsync(perSecond, duration, () => platform.RunTaskAsync(app), stop);
        var counted = submitted.Where(t => t.RequestedAt >= submitted[0].RequestedAt + warmUp).ToList();
        await platform.WaitForEndsAsync(app, await platform.ScalarAsync(CountSql(app)) , TimeSpan.FromSeconds(60));
        var lines = await platform.FirstLinesAsync(counted.Select(t => t.Id).ToList());
        var measured = counted
            .Select(t => (t.RequestedAt, Latency: ChildClock.LatencyMs(t.RequestedAt, lines.GetValueOrDefault(t.Id))))
            .Where(t => t.Latency is not null).Select(t => (t.RequestedAt, Latency: t.Latency!.Value)).ToList();
        var latencies = measured.Select(t => t.Latency).ToList();
        return new DispatchResult(new Distribution(latencies), submitted.Count, counted.Count - latencies.Count, SteadyRate.LastFailures)
        {
            OfferedPerSecond = RatePerSecond(counted.Select(t => t.RequestedAt)),
            StartedPerSecond = RatePerSecond(measured.Select(t => t.RequestedAt.AddMilliseconds(t.Latency))),
            Slowest = measured.OrderByDescending(t => t.Latency).Take(5)
                .Select(t => ((t.RequestedAt - counted[0].RequestedAt).TotalSeconds, t.Latency)).ToList(),
        };
    }

    /// <summary>
    /// Events per second between the first and the last: for the requests, the rate offered; for the
    /// processes' starts, the rate the platform kept. Once it falls behind, each task waits longer than the
    /// one before, the starts spread over more time than the requests did, and the second rate drops.
    /// </summary>
    private static double RatePerSecond(IEnumerable<DateTimeOffset> moments)
    {
        var all = moments.ToList();
        if (all.Count < 2) return double.NaN;
        var span = (all.Max() - all.Min()).TotalSeconds;
        return span > 0 ? (all.Count - 1) / span : double.NaN;
    }

    // Every task of the app so far, so that the wait covers the tasks of earlier runs on the same app too.
    private static string CountSql(string app) => $"select count(*) from {{schema}}.mt_doc_apptask where app = '{app}'";
}
