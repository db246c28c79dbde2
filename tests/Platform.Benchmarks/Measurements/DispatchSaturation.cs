using System.Globalization;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>One offered rate of the series: what dispatch measured there, and whether the platform kept up.</summary>
public sealed record RatePoint(double Offered, DispatchResult Result, bool KeptUp);

/// <summary>
/// Measure 7 (how cost grows): dispatch latency, as measure 1, at rising offered rates, each on an app of its
/// own, so that the curve shows where latency turns from a constant into a queue. The platform has fallen
/// behind at a rate when its processes started at under <see cref="KeptUpShare"/> of the rate they were
/// requested at (each task then waits longer than the one before), when the p99 is over
/// <see cref="P99Growth"/> times the p99 at the lowest rate, or when any task has no start time. The
/// saturation throughput is the first rate of the series that fell behind, and the start rate reached there
/// is what the machine sustains.
/// </summary>
public sealed class DispatchSaturation(PlatformClient platform, DispatchLatency dispatch)
{
    public const double KeptUpShare = 0.95;
    public const double P99Growth = 10;

    public async Task<RatePoint> MeasureAsync(double perSecond, TimeSpan duration, TimeSpan warmUp, double lowestRateP99)
    {
        var app = $"bench-dispatch-{perSecond.ToString("0", CultureInfo.InvariantCulture)}-per-s";
        await platform.RegisterAppAsync(app, ChildClock.Command);
        var result = await dispatch.MeasureAsync(app, perSecond, duration, warmUp);
        return new RatePoint(perSecond, result, KeptUp(result, lowestRateP99));
    }

    public static bool KeptUp(DispatchResult result, double lowestRateP99) =>
        result.Unmeasured == 0 && result.RequestsFailed == 0 && result.LatencyMs.Count > 0
        && result.StartedPerSecond >= KeptUpShare * result.OfferedPerSecond
        && !(result.LatencyMs.P99 > P99Growth * lowestRateP99);

    /// <summary>The first offered rate that fell behind, or null when the platform kept up at every rate.</summary>
    public static RatePoint? FirstBehind(IReadOnlyList<RatePoint> series) => series.OrderBy(p => p.Offered).FirstOrDefault(p => !p.KeptUp);

    public static string Describe(IReadOnlyList<RatePoint> series)
    {
        var sorted = series.OrderBy(p => p.Offered).ToList();
        var behind = FirstBehind(sorted);
        var keptUp = sorted.Where(p => p.KeptUp && (behind is null || p.Offered < behind.Offered)).Select(p => p.Offered).ToList();
        if (behind is null) return $"kept up at every offered rate up to {sorted[^1].Offered:0}/s: saturation above that";
        return (keptUp.Count > 0 ? $"kept up to {keptUp.Max():0}/s; " : "behind already at the lowest rate; ")
            + $"behind from {behind.Offered:0}/s offered, where processes started at {behind.Result.StartedPerSecond:0.0}/s (p99 {behind.Result.LatencyMs.P99:0} ms)";
    }
}
