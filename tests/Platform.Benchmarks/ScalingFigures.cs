using Platform.Benchmarks.Infrastructure;
using Platform.Benchmarks.Measurements;

namespace Platform.Benchmarks;

/// <summary>
/// The figures of the scaling rows as the run gathers them, and the picture's panels made from them: one
/// curve per row, so that a reader sees how each cost grows rather than reads it off the table.
/// </summary>
public sealed class ScalingFigures
{
    public List<(int Schedules, Distribution? LatenessMs)> Lateness { get; } = [];
    public List<(long Events, Distribution? LatencyMs)> List { get; } = [];
    public List<RatePoint> Dispatch { get; } = [];
    public DispatchResult? Sandboxed { get; set; }
    public List<(int Tasks, double EventsPerSecond)> Retention { get; } = [];

    /// <summary>What fires in the lateness rows (the x axis counts all schedules, idle ones included).</summary>
    public string Firing { get; set; } = "";

    public IReadOnlyList<ChartPanel> Panels()
    {
        static ChartSeries Of<T>(string name, IEnumerable<T> points, Func<T, double> x, Func<T, double> y) =>
            new(name, points.Select(p => new ChartPoint(x(p), y(p))).ToList());
        static double Pick(Distribution? d, Func<Distribution, double> pick) => d is null ? double.NaN : pick(d);

        var dispatch = new List<ChartSeries>
        {
            Of("unsandboxed p50", Dispatch, p => p.Offered, p => p.Result.LatencyMs.P50),
            Of("unsandboxed p99", Dispatch, p => p.Offered, p => p.Result.LatencyMs.P99),
        };
        if (Sandboxed is { } sandboxed && Dispatch.Count > 0)
            dispatch.Add(new ChartSeries("sandboxed p99", [new ChartPoint(Dispatch.Min(p => p.Offered), sandboxed.LatencyMs.P99)]));
        return
        [
            new ChartPanel("Firing lateness vs schedules", $"schedules ({Firing})", "lateness (ms)",
            [
                Of("p50", Lateness, l => l.Schedules, l => Pick(l.LatenessMs, d => d.P50)),
                Of("p99", Lateness, l => l.Schedules, l => Pick(l.LatenessMs, d => d.P99)),
                Of("max", Lateness, l => l.Schedules, l => Pick(l.LatenessMs, d => d.Max)),
            ]),
            new ChartPanel("List tasks vs events in the store", "events in the store", "GET /v3/apps/{app}/tasks (ms)",
            [
                Of("p50", List, l => l.Events, l => Pick(l.LatencyMs, d => d.P50)),
                Of("p99", List, l => l.Events, l => Pick(l.LatencyMs, d => d.P99)),
            ]),
            new ChartPanel("Dispatch latency vs offered rate", "offered tasks/s", "request to process start (ms)", dispatch),
            new ChartPanel("Retention vs finished tasks to prune", "finished tasks pruned to 100", "events deleted per second",
            [
                Of("events/s", Retention, r => r.Tasks, r => r.EventsPerSecond),
            ]),
        ];
    }
}
