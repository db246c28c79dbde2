using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.Monitoring;
using Platform.Benchmarks.Infrastructure;
using Platform.Benchmarks.Measurements;

namespace Platform.Benchmarks.Hangfire;

/// <summary>What one Hangfire configuration did on the same work as Platform.</summary>
public sealed record HangfireResult(string Setting, DispatchResult Dispatch, ThroughputResult Throughput, double IdleStatementsPerSecond, string IdleSources);

/// <summary>
/// Hangfire 1.8 with Hangfire.PostgreSql on the same PostgreSQL (this run's database, a schema of its own per
/// configuration), doing measures 1, 2 and 6 the way Platform does them: the same command through
/// <c>/bin/sh -c</c>, unsandboxed (so it is compared with Platform's unsandboxed figures), with as many
/// workers as Platform has task slots. The server runs inside the benchmark process, as Hangfire usually
/// runs inside an application.
/// </summary>
public sealed class HangfireComparison(BenchmarkServers servers)
{
    public static int Workers => PlatformServices.Executors * PlatformServices.SlotsPerExecutor;

    /// <summary>Hangfire.PostgreSql's defaults, untouched.</summary>
    public static PostgreSqlStorageOptions Defaults() => new() { SchemaName = "hangfire_default" };

    /// <summary>
    /// Its fastest settings: LISTEN/NOTIFY wake-ups (long polling) and a queue poll interval of 50 ms, the lowest Hangfire.PostgreSql accepts without `AllowUnsafeValues`, for
    /// whatever the notification misses.
    /// </summary>
    public static PostgreSqlStorageOptions FastPolling() => new()
    {
        SchemaName = "hangfire_fast", QueuePollInterval = TimeSpan.FromMilliseconds(50), EnableLongPolling = true,
    };

    public async Task<HangfireResult> MeasureAsync(string setting, PostgreSqlStorageOptions options,
        double perSecond, TimeSpan duration, TimeSpan warmUp, int throughputTasks, TimeSpan timeout)
    {
        // The benchmark enqueues through Hangfire's client API, which is synchronous, on pool threads (up to
        // ClientConcurrency at once); the pool starts with a thread per core and adds about one a second, so it
        // gets enough to begin with: the harness's blocking must not be what Hangfire is measured by.
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, Throughput.ClientConcurrency + 8), minIo);
        // As many connections as Platform's five processes have together (5 × 15): with fewer, its workers'
        // polling held the pool and enqueues timed out waiting for a connection.
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(servers.ConnectionString(PlatformServices.ConnectionsInAll), options), options);
        var client = new BackgroundJobClient(storage);
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = Workers, ServerName = $"bench-{setting}" }, storage);
        await Task.Delay(TimeSpan.FromSeconds(2));
        ShellJob.Reset();
        var tickets = 0;

        // Measure 1: enqueue at a steady rate; latency from the Enqueue call to the child's own start time.
        var submitted = await SteadyRate.RunAsync(perSecond, duration, () =>
        {
            var ticket = Interlocked.Increment(ref tickets);
            var requestedAt = DateTimeOffset.UtcNow;
            client.Enqueue(() => ShellJob.Run(ticket, ChildClock.Command));
            return Task.FromResult((Ticket: ticket, RequestedAt: requestedAt));
        });
        var deadline = DateTime.UtcNow + timeout;
        while (ShellJob.FirstLines.Count < submitted.Count && DateTime.UtcNow < deadline) await Task.Delay(100);
        var counted = submitted.Where(s => s.RequestedAt >= submitted[0].RequestedAt + warmUp).ToList();
        var latencies = counted.Select(s => ChildClock.LatencyMs(s.RequestedAt, ShellJob.FirstLines.GetValueOrDefault(s.Ticket)))
            .Where(l => l is not null).Select(l => l!.Value).ToList();
        var dispatch = new DispatchResult(new Distribution(latencies), submitted.Count, counted.Count - latencies.Count, SteadyRate.LastFailures);
        await WaitForAsync(storage, s => s.Succeeded >= submitted.Count, TimeSpan.FromSeconds(30));
        // Measure 2 starts from an empty queue: an enqueue that timed out on the client may have committed all
        // the same, and a job of measure 1 still queued or running would be counted as measure 2's.
        await WaitForAsync(storage, s => s is { Enqueued: 0, Processing: 0 }, TimeSpan.FromSeconds(60));

        // Measure 2: the same backlog of no-op jobs, enqueued by as many parallel clients as Platform gets.
        var succeededBefore = storage.GetMonitoringApi().GetStatistics().Succeeded;
        var transactionsBefore = await servers.TransactionsSoFarAsync();
        var started = DateTimeOffset.UtcNow;
        var remaining = throughputTasks;
        await Task.WhenAll(Enumerable.Range(0, Throughput.ClientConcurrency).Select(_ => Task.Run(() =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var ticket = Interlocked.Increment(ref tickets);
                client.Enqueue(() => ShellJob.Run(ticket, "true"));
            }
        })));
        var acceptedIn = DateTimeOffset.UtcNow - started;
        var end = await WaitForAsync(storage, s => s.Succeeded >= succeededBefore + throughputTasks, timeout);
        var (succeeded, failed) = (end.Succeeded, end.Failed);
        await Task.Delay(IdleCost.StatisticsLag); // until every backend has published its counts
        var transactions = await servers.TransactionsSoFarAsync() - transactionsBefore;
        var throughput = new ThroughputResult(throughputTasks, (succeeded - succeededBefore) / (ShellJob.LastEnd - started).TotalSeconds,
            throughputTasks / acceptedIn.TotalSeconds, succeeded - succeededBefore, failed, transactions / (double)throughputTasks);

        // Measure 6: the same idle window as Platform's, with this server running and nothing to do.
        var idleCost = new IdleCost(servers);
        var idle = await idleCost.StatementsPerSecondAsync(TimeSpan.FromSeconds(10));
        return new HangfireResult(setting, dispatch, throughput, idle, idleCost.DescribeSources(4));
    }

    /// <summary>Polls Hangfire's statistics until <paramref name="done"/> holds or the timeout passes; returns the last ones read.</summary>
    private static async Task<StatisticsDto> WaitForAsync(JobStorage storage, Func<StatisticsDto, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var statistics = storage.GetMonitoringApi().GetStatistics();
            if (done(statistics) || DateTime.UtcNow > deadline) return statistics;
            await Task.Delay(100);
        }
    }
}
