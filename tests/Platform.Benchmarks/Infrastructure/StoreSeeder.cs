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
        await using var transaction = await connection.BeginTransactionAsync();
        var firstSequence = await NextSequencesAsync(connection, app, count);
        await Execute(connection, "create temporary table seed (template uuid, id uuid, app text, seq bigint) on commit drop");
        await Execute(connection,
            """
             insert into seed
             select ($1::uuid[])[1 + g.n % cardinality($1::uuid[])], gen_random_uuid(), $2, $3 + g.n
             from generate_series(0, $4 - 1) g(n)
             """,
            [templates.ToArray(), app, firstSequence, count]);
        await Execute(connection,
            $"""
             insert into {Schema}.mt_streams (id, type, version, timestamp, created, tenant_id)
             select s.id, st.type, st.version, st.timestamp, st.created, st.tenant_id
             from seed s join {Schema}.mt_streams st on st.id = s.template
             """);
        var events = await Execute(connection,
            $"""
             insert into {Schema}.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type)
             select nextval('{Schema}.mt_events_sequence'), gen_random_uuid(), s.id, e.version,
                    e.data || jsonb_build_object('TaskId', s.id)
                      || case when e.data ? 'App' then jsonb_build_object('App', s.app, 'SequenceId', s.seq) else jsonb_build_object() end,
                    e.type, e.timestamp, e.tenant_id, e.mt_dotnet_type
             from seed s join {Schema}.mt_events e on e.stream_id = s.template
             """);
        await Execute(connection,
            $"""
             insert into {Schema}.mt_doc_apptask (id, data, app, mt_last_modified, mt_dotnet_type, mt_version)
             select s.id, d.data || jsonb_build_object('Id', s.id, 'App', s.app, 'SequenceId', s.seq), s.app, d.mt_last_modified, d.mt_dotnet_type, d.mt_version
             from seed s join {Schema}.mt_doc_apptask d on d.id = s.template
             """);
        await Execute(connection,
            $"insert into {Schema}.task_logs (task_id, seq, stream, at, line) select id, 1, 1, now(), 'seeded output line' from seed");
        await transaction.CommitAsync();
        return events;
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
            $"select id from {Schema}.mt_doc_apptask where data ->> 'App' = $1 and data ->> 'State' in ('Succeeded', 'Failed') limit $2");
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetGuid(0));
        return ids;
    }
}
