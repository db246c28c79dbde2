using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>What a retention run found, or why it could not run.</summary>
public sealed record RetentionResult(Figure Seconds, Figure EventsPerSecond, Figure DispatchP99Ms, string Detail);

/// <summary>
/// Measure 4: Retention keeps the newest N finished tasks per app. 100,000 finished tasks with their logs
/// are written straight into the store for one app (the scaling row: 1,000,000); then the app's limit is
/// set to a small number, and the clock runs from then until the app is down to its limit, while tasks of
/// another app are dispatched at a steady rate (whose p99 shows what pruning does to everyone else). One
/// real task in the app is run at the start, so that a Retention that reacts to TaskCompleted has something
/// to react to. Seeding and measuring are apart so that the large app can sit in the store while the read
/// path is measured at 10 M events, and be pruned after.
/// </summary>
public sealed class RetentionPruning(PlatformClient platform, StoreSeeder seeder, DispatchLatency dispatch)
{
    public const int Keep = 100;

    /// <summary>
    /// Registers <paramref name="app"/> without a limit of its own (the benchmark's global limit is 1,000,000,
    /// so nothing of it is pruned yet) and copies <paramref name="tasks"/> finished tasks into it; returns the
    /// events written.
    /// </summary>
    public async Task<long> SeedAsync(IReadOnlyList<Guid> templates, string app, int tasks)
    {
        await platform.RegisterAppAsync(app, "true");
        return await seeder.SeedAsync(templates, app, tasks);
    }

    public async Task<RetentionResult> MeasureAsync(string app, int tasks, long seededEvents, string dispatchApp, TimeSpan timeout)
    {
        var changed = await platform.UpdateAppAsync(app, new { retention = new { max_tasks = Keep } });
        if (changed?["retention"] is null)
        {
            var reason = "not measured: the Api on this commit does not provide a per-app retention (PATCH /v3/apps/{app} ignores `retention`)";
            return new RetentionResult(Figure.Missing(reason), Figure.Missing(reason), Figure.Missing(reason), reason);
        }

        var started = DateTimeOffset.UtcNow;
        await platform.RunTaskAsync(app);
        using var done = new CancellationTokenSource(timeout);
        var load = dispatch.MeasureAsync(dispatchApp, perSecond: 20, duration: timeout, warmUp: TimeSpan.Zero, done.Token);
        while (await AtMostOverLimitAsync(app) > Keep + 1 && !done.IsCancellationRequested) await Task.Delay(100);
        var elapsed = DateTimeOffset.UtcNow - started;
        await done.CancelAsync();
        var latencies = await load;
        var remaining = await platform.ScalarAsync($"select count(*) from {{schema}}.mt_doc_apptask where app = '{app}'");

        var remainingEvents = await platform.ScalarAsync(
            $"select count(*) from {{schema}}.mt_events e join {{schema}}.mt_doc_apptask t on t.id = e.stream_id where t.app = '{app}'");
        var deleted = seededEvents - remainingEvents;
        var finished = remaining <= Keep + 1;
        var detail = $"{tasks:N0} tasks ({seededEvents} events) seeded, limit {Keep}: "
            + (finished ? $"pruned in {elapsed.TotalSeconds:0.0} s" : $"NOT pruned to the limit within {timeout.TotalSeconds:0} s ({remaining} tasks left)")
            + $"; dispatch meanwhile: {latencies}";
        return new RetentionResult(
            finished ? Figure.Of(elapsed.TotalSeconds) : Figure.Missing($"> {timeout.TotalSeconds:0} s ({remaining} left)"),
            Figure.Of(deleted / elapsed.TotalSeconds), Figure.Of(latencies.LatencyMs.P99), detail);
    }

    // The app's tasks, counted only up to just over the limit: a full count of a million tasks took 360 ms
    // (run of 2026-12-02), and ten of them a second took CPU from the pruning being timed.
    private Task<long> AtMostOverLimitAsync(string app) =>
        platform.ScalarAsync($"select count(*) from (select 1 from {{schema}}.mt_doc_apptask where app = '{app}' limit {Keep + 2}) t");
}
