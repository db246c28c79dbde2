using Npgsql;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// Fills the store with finished tasks far faster than running them could: real finished tasks (streams,
/// events, read-model rows, written by the platform itself during the throughput run) are copied inside
/// PostgreSQL under new ids, app names and sequence ids, each with one log line. The copies are what the
/// platform would have written for the same tasks, so the read path and retention see realistic rows.
/// </summary>
public sealed class StoreSeeder(NpgsqlDataSource database)
{
    private const string Schema = "platform";

    /// <summary>
    /// Vacuums and analyzes the tables seeding fills, as after any bulk load: otherwise autovacuum starts on
    /// the fresh rows during a later measurement, at a moment of its choosing.
    /// </summary>
    public async Task VacuumAsync()
    {
        await using var vacuum = database.CreateCommand(
            $"vacuum (analyze) {Schema}.mt_events, {Schema}.mt_streams, {Schema}.mt_doc_apptask, {Schema}.task_logs");
        vacuum.CommandTimeout = 300;
        await vacuum.ExecuteNonQueryAsync();
    }

    /// <summary>Copies <paramref name="count"/> tasks into <paramref name="app"/>; returns how many events were written.</summary>
    public async Task<long> SeedAsync(IReadOnlyList<Guid> templates, string app, int count)
    {
        await using var connection = await database.OpenConnectionAsync();
        // The app's sequence ids are taken first, in a transaction of their own, as the Api does: the
        // counter's row is then not locked while the copies are written, and parts of one large app can be
        // seeded side by side.
        var firstSequence = await NextSequencesAsync(connection, app, count);
        await using var transaction = await connection.BeginTransactionAsync();
        // A bulk load of data that can be made again: not worth waiting for the WAL flush at commit.
        await Execute(connection, "set local synchronous_commit = off");
        await Execute(connection, "create temporary table seed (template uuid, id uuid, app text, seq bigint) on commit drop");
        // New ids rise with the row, as the Api's do (NewId.NextSequentialGuid): each index on an id then
        // grows at its right edge, as in production, instead of touching a random page per row.
        await Execute(connection,
            """
             insert into seed
             select ($1::uuid[])[1 + g.n % cardinality($1::uuid[])],
                    encode(int8send($5 + g.n) || substring(uuid_send(gen_random_uuid()) from 9), 'hex')::uuid, $2, $3 + g.n
             from generate_series(0, $4 - 1) g(n)
             """,
            [templates.ToArray(), app, firstSequence, count, (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100]);
        // Every column Marten wrote for the template (metadata such as correlation ids and user names, the
        // duplicated columns of the read model) is copied as it is; only ids, the app and the sequence id change.
        await Execute(connection, await CopySqlAsync(connection, "mt_streams", "s.template = t.id", new() { ["id"] = "s.id" }));
        var events = await Execute(connection, await CopySqlAsync(connection, "mt_events", "s.template = t.stream_id", new()
        {
            ["seq_id"] = $"nextval('{Schema}.mt_events_sequence')",
            ["id"] = "gen_random_uuid()",
            ["stream_id"] = "s.id",
            ["data"] = "t.data || jsonb_build_object('TaskId', s.id) || case when t.data ? 'App' then jsonb_build_object('App', s.app, 'SequenceId', s.seq) else jsonb_build_object() end",
        }));
        await Execute(connection, await CopySqlAsync(connection, "mt_doc_apptask", "s.template = t.id", new()
        {
            ["id"] = "s.id",
            ["data"] = "t.data || jsonb_build_object('Id', s.id, 'App', s.app, 'SequenceId', s.seq)",
            ["app"] = "s.app",
        }));
        await Execute(connection,
            $"insert into {Schema}.task_logs (task_id, seq, stream, at, line) select id, 1, 1, now(), 'seeded output line' from seed");
        await transaction.CommitAsync();
        return events;
    }

    /// <summary>
    /// Seeds several apps at once, <paramref name="parallel"/> transactions side by side: one PostgreSQL
    /// backend inserting leaves the other core idle. Stops starting new apps once <paramref name="budget"/>
    /// has passed; returns how many apps were seeded, and the events written.
    /// </summary>
    public async Task<(int Seeded, long Events)> SeedManyAsync(IReadOnlyList<Guid> templates, IReadOnlyList<string> apps, int tasksPerApp, TimeSpan budget, int parallel = 2)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var next = -1;
        var seeded = 0;
        long events = 0;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < apps.Count && clock.Elapsed < budget)
            {
                Interlocked.Add(ref events, await SeedAsync(templates, apps[i], tasksPerApp));
                Interlocked.Increment(ref seeded);
            }
        }));
        return (seeded, events);
    }

    /// <summary>An INSERT ... SELECT copying <paramref name="table"/>'s rows of the templates, every column as it is but the overridden ones.</summary>
    private static async Task<string> CopySqlAsync(NpgsqlConnection connection, string table, string join, Dictionary<string, string> overrides)
    {
        var columns = new List<string>();
        await using (var command = new NpgsqlCommand(
            "select column_name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = Schema });
            command.Parameters.Add(new NpgsqlParameter { Value = table });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) columns.Add(reader.GetString(0));
        }
        var missing = overrides.Keys.Except(columns).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"{Schema}.{table} has no column {string.Join(", ", missing)}: the seeder no longer matches Marten's layout");
        return $"insert into {Schema}.{table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) "
            + $"select {string.Join(", ", columns.Select(c => overrides.GetValueOrDefault(c) ?? $"t.\"{c}\""))} from seed s join {Schema}.{table} t on {join}";
    }

    /// <summary>
    /// Takes <paramref name="count"/> sequence ids from the app's counter, as the Api would, so that tasks
    /// run later in the same app are newer than the copies.
    /// </summary>
    private static async Task<long> NextSequencesAsync(NpgsqlConnection connection, string app, int count)
    {
        var columns = new List<string>();
        await using (var command = new NpgsqlCommand(
            "select column_name from information_schema.columns where table_schema = $1 and table_name = 'app_task_sequences' order by ordinal_position", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = Schema });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) columns.Add(reader.GetString(0));
        }
        if (columns.Count != 2) return 1_000_000; // an unknown layout: copies numbered apart from real tasks
        var (key, value) = (columns[0], columns[1]);
        await using var next = new NpgsqlCommand(
            $"""
             insert into {Schema}.app_task_sequences ({key}, {value}) values ($1, $2)
             on conflict ({key}) do update set {value} = app_task_sequences.{value} + $2
             returning {value} - $2 + 1
             """, connection);
        next.Parameters.Add(new NpgsqlParameter { Value = app });
        next.Parameters.Add(new NpgsqlParameter { Value = (long)count });
        return Convert.ToInt64(await next.ExecuteScalarAsync());
    }

    private static async Task<long> Execute(NpgsqlConnection connection, string sql, object[]? parameters = null)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        foreach (var parameter in parameters ?? []) command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Ids of an app's finished tasks, to copy.</summary>
    public async Task<List<Guid>> FinishedTasksAsync(string app, int limit)
    {
        await using var command = database.CreateCommand(
            $"select id from {Schema}.mt_doc_apptask where app = $1 and data ->> 'State' in ('Succeeded', 'Failed') limit $2");
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetGuid(0));
        return ids;
    }
}
