using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>
/// Measure 6: what a system costs PostgreSQL when nothing happens, as transactions per second in this run's
/// own database (pg_stat_database; pg_stat_statements is not loaded on the shared server, and it cannot be
/// without a restart). With autocommit, each statement outside a transaction is one transaction.
/// </summary>
public sealed class IdleCost(BenchmarkServers servers)
{
    /// <summary>The statements seen during the window, by application and text (lower bounds; see <see cref="StatementSampler"/>).</summary>
    public IReadOnlyList<(string Application, string Statement, int Seen)> Sources { get; private set; } = [];

    public string DescribeSources(int top) =>
        string.Join("; ", Sources.Take(top).Select(s => $"{s.Application} ×{s.Seen}: `{s.Statement.Replace("`", "'")}`"));

    /// <summary>
    /// A backend with counts not yet published publishes them once it has been idle for 10 s
    /// (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): the window opens only after that, or the tail of the work
    /// before it would be counted as idle cost.
    /// </summary>
    public static readonly TimeSpan StatisticsLag = TimeSpan.FromSeconds(11);

    public async Task<double> StatementsPerSecondAsync(TimeSpan window)
    {
        await Task.Delay(StatisticsLag);
        var before = await servers.TransactionsSoFarAsync();
        var sampled = new StatementSampler(servers.Name, BenchmarkServers.ServerConnection).SampleAsync(window);
        await Task.Delay(window);
        Sources = await sampled;
        // The server publishes a backend's counts when it goes idle, at most once a second: wait for the last.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var after = await servers.TransactionsSoFarAsync();
        return (after - before) / (window + TimeSpan.FromSeconds(1.5)).TotalSeconds;
    }
}
