using System.Diagnostics;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>What a throughput run found.</summary>
public sealed record ThroughputResult(int Tasks, double TasksPerSecond, double AcceptedPerSecond, long Succeeded, long Failed, double TransactionsPerTask)
{
    /// <summary>Table by table, what one task cost the store (scans and row writes per task).</summary>
    public string PerTaskTables { get; init; } = "";

    /// <summary>The statements one task cost (pg_stat_statements), busiest first.</summary>
    public string PerTaskStatements { get; init; } = "";

    /// <summary>CPU time one task cost, by program.</summary>
    public string PerTaskCpu { get; init; } = "";

    public long Lost => Tasks - Succeeded - Failed;

    public override string ToString() =>
        $"{Tasks} tasks: {TasksPerSecond:0.0}/s end to end (accepted at {AcceptedPerSecond:0.0}/s); succeeded {Succeeded}, failed {Failed}, lost {Lost}; {TransactionsPerTask:0.0} PostgreSQL transactions per task";
}

/// <summary>
/// Measure 2: no-op tasks (<c>true</c>) end to end. The backlog is offered as fast as the Api accepts it
/// (a parallel client), and the rate is tasks / (last task ended − first request sent). Every task must
/// end SUCCEEDED: lost ones are counted and printed.
/// </summary>
public sealed class Throughput(PlatformClient platform, BenchmarkServers servers)
{
    public const int ClientConcurrency = 16;

    public async Task<ThroughputResult> MeasureAsync(string app, int tasks, TimeSpan timeout)
    {
        // The end is when the app has as many ended tasks as were sent: an app with tasks already would end it early.
        if ((await platform.CountAsync(app)).Total is > 0 and var existing)
            throw new InvalidOperationException($"Measure 2 needs an app without tasks; {app} has {existing}");
        var transactionsBefore = await servers.TransactionsSoFarAsync();
        var tablesBefore = await TableActivity.TakeAsync(platform.Database, "platform");
        var statements = await StatementProfile.StartAsync(servers);
        var cpuBefore = CpuProfile.Take();
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var remaining = tasks;
        await Task.WhenAll(Enumerable.Range(0, ClientConcurrency).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0) await platform.RunTaskAsync(app);
        }));
        var acceptedIn = clock.Elapsed;
        var (succeeded, failed) = await platform.WaitForEndsAsync(app, tasks, timeout);
        var lastEnd = await platform.LastEndAsync(app);
        var cpu = CpuProfile.Take().DescribeSince(cpuBefore, tasks);
        await Task.Delay(IdleCost.StatisticsLag); // until every backend has published its counts
        var transactions = await servers.TransactionsSoFarAsync() - transactionsBefore;
        var tables = (await TableActivity.TakeAsync(platform.Database, "platform")).DescribeSince(tablesBefore, tasks);
        return new ThroughputResult(tasks, succeeded / (lastEnd - started).TotalSeconds, tasks / acceptedIn.TotalSeconds,
            succeeded, failed, transactions / (double)tasks)
        {
            PerTaskTables = tables,
            PerTaskCpu = cpu,
            PerTaskStatements = statements is null ? "" : await statements.DescribeAsync(tasks),
        };
    }
}
