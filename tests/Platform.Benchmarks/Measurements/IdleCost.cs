using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>
/// Measure 6: what a system costs PostgreSQL when nothing happens, as transactions per second in this run's
/// own database (pg_stat_database; pg_stat_statements is not loaded on the shared server, and it cannot be
/// without a restart). With autocommit, each statement outside a transaction is one transaction.
/// </summary>
public sealed class IdleCost(BenchmarkServers servers)
{
    public async Task<double> StatementsPerSecondAsync(TimeSpan settle, TimeSpan window)
    {
        await Task.Delay(settle);
        var before = await servers.TransactionsSoFarAsync();
        await Task.Delay(window);
        // The server publishes a backend's counts when it goes idle, at most once a second: wait for the last.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var after = await servers.TransactionsSoFarAsync();
        return (after - before) / (window + TimeSpan.FromSeconds(1.5)).TotalSeconds;
    }
}
