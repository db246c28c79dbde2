using System.Diagnostics;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore.Tasks;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Retention;

/// <summary>
/// How long the Retention service takes to cut one app from 100,000 finished tasks (three events and three
/// log lines each) down to the default 500, and how the API's reads fare meanwhile.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait("Category", "Benchmark")]
public sealed class RetentionBenchmark(PlatformFixture platform, ITestOutputHelper output)
{
    private const int Tasks = 100_000;
    private const int Kept = 500;
    private const int LogLinesPerTask = 3;
    private const int EventsPerTask = 3;

    [BenchmarkFact]
    public async Task Cleaning_up_100000_finished_tasks_of_one_app()
    {
        var app = await platform.RegisterAppAsync();
        await using var history = new TaskHistory(platform);
        List<double> idle;
        var seeding = Stopwatch.StartNew();
        var start = DateTimeOffset.UtcNow - TimeSpan.FromDays(1);
        var ids = await history.SeedAsync(app, Enumerable.Range(1, Tasks)
            .Select(n => new SeededTask(n, TaskState.Succeeded, start + TimeSpan.FromMilliseconds(n), LogLinesPerTask)).ToList());
        seeding.Stop();

        // The same reads with nothing deleting, to compare with.
        using (var baseline = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            idle = await MeasureReadsAsync(app, ids[^1], baseline.Token);

        // A Retention process of its own: it sweeps at start-up, which finds the app over its limit.
        var wall = Stopwatch.StartNew();
        await using var retention = ServiceProcess.Start("Retention", platform.Environment(), Path.Combine(platform.LogDirectory, platform.Isolation, "benchmark"));
        using var readers = new CancellationTokenSource();
        var reads = MeasureReadsAsync(app, ids[^1], readers.Token);
        await history.WaitUntilAsync(async () => (await history.RunsOfAsync(app)).Count > 0, TimeSpan.FromMinutes(15), "the cleanup");
        wall.Stop();
        await readers.CancelAsync();
        var latencies = await reads;

        var runs = await history.RunsOfAsync(app);
        var deleted = runs.Sum(r => r.Deleted);
        var pruneSeconds = runs.Sum(r => r.ElapsedMs) / 1000;
        Assert.Equal(Tasks - Kept, deleted);
        Assert.Equal(Kept, (await history.TasksOfAsync(app)).Count);
        Assert.Equal(0, await history.RowsLeftAsync(ids.Take(Tasks - Kept)));

        latencies.Sort();
        idle.Sort();
        var report =
            $"""
             Retention benchmark ({DateTimeOffset.UtcNow:u}, {Environment.ProcessorCount} cores)
             seeded {Tasks} finished tasks ({Tasks * EventsPerTask} events, {Tasks * LogLinesPerTask} log lines) in {seeding.Elapsed.TotalSeconds:F1} s
             pruned to {Kept}: {deleted} tasks deleted in {pruneSeconds:F2} s (the prune itself, as recorded on its RetentionRun)
               = {deleted / pruneSeconds:F0} tasks/s, {deleted * EventsPerTask / pruneSeconds:F0} events/s, {deleted * LogLinesPerTask / pruneSeconds:F0} log lines/s
             wall time from starting the Retention process to the run recorded: {wall.Elapsed.TotalSeconds:F1} s
             API reads (a page of the app's task list + one task), before: {Describe(idle)}
             API reads while the cleanup runs: {Describe(latencies)}
             """;
        output.WriteLine(report);
        await File.AppendAllTextAsync(Path.Combine(platform.LogDirectory, "retention-benchmark.txt"), report + "\n\n");
    }

    private async Task<List<double>> MeasureReadsAsync(string app, Guid keptTask, CancellationToken stop)
    {
        var latencies = new List<double>();
        while (!stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            (await platform.Api.GetAsync($"/v3/apps/{app}/tasks?per_page=50", CancellationToken.None)).EnsureSuccessStatusCode();
            (await platform.Api.GetAsync($"/v3/tasks/{keptTask}", CancellationToken.None)).EnsureSuccessStatusCode();
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            try { await Task.Delay(50, stop); } catch (OperationCanceledException) { }
        }
        return latencies;
    }

    private static string Describe(List<double> sorted) =>
        $"{sorted.Count} reads, median {Percentile(sorted, 0.5):F0} ms, p95 {Percentile(sorted, 0.95):F0} ms, max {sorted.LastOrDefault():F0} ms";

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
}
