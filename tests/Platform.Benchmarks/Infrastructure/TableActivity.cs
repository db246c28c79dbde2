using Npgsql;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// Per-table counters of a schema (pg_stat_user_tables: scans, rows inserted, updated, deleted) taken before
/// and after some work: where a task's round trips go, without pg_stat_statements.
/// </summary>
public sealed class TableActivity
{
    private readonly Dictionary<string, (long Scans, long Inserted, long Updated, long Deleted)> _counters;

    private TableActivity(Dictionary<string, (long, long, long, long)> counters) => _counters = counters;

    public static async Task<TableActivity> TakeAsync(NpgsqlDataSource database, string schema)
    {
        // A fresh snapshot: within a transaction the statistics views would answer from a cache.
        await using var command = database.CreateCommand(
            "select relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0), n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables where schemaname = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = schema });
        var counters = new Dictionary<string, (long, long, long, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counters[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
        return new TableActivity(counters);
    }

    /// <summary>Per unit of work (a task): scans and row writes of each table that changed, busiest first.</summary>
    public string DescribeSince(TableActivity before, double units) => string.Join(", ", _counters
        .Select(c => (Table: c.Key, Now: c.Value, Then: before._counters.GetValueOrDefault(c.Key)))
        .Select(c => (c.Table, Scans: (c.Now.Scans - c.Then.Scans) / units,
            Writes: (c.Now.Inserted - c.Then.Inserted + c.Now.Updated - c.Then.Updated + c.Now.Deleted - c.Then.Deleted) / units))
        .Where(c => c.Scans + c.Writes > 0.05)
        .OrderByDescending(c => c.Scans + c.Writes)
        .Select(c => $"{c.Table} {c.Scans:0.0} scans + {c.Writes:0.0} row writes"));
}
