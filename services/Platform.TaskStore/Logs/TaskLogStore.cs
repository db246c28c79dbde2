using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.TaskStore.Tasks;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Platform.TaskStore.Logs;

/// <summary>
/// Task output in a plain table beside the event store: lines are many and small, so they are written in
/// batches with binary COPY (one round trip per batch) rather than as events or documents.
/// </summary>
public sealed class TaskLogStore(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private readonly string _table = $"{options.Value.Schema}.{TaskLogTable.Name}";
    private readonly string _tasks = $"{options.Value.Schema}.{AppTask.TableName}";

    /// <summary>The newest <paramref name="limit"/> lines of all an app's tasks, oldest first (as <c>cf logs --recent</c>).</summary>
    public async Task<IReadOnlyList<AppLogLine>> ReadRecentForAppAsync(string app, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
             select * from (
               select l.task_id, {DocumentFields.Text("t", nameof(AppTask.Name))}, l.seq, l.stream, l.at, l.line
               from {_table} l join {_tasks} t on t.id = l.task_id
               where t.{AppTask.AppColumn} = $1
               order by l.at desc, l.seq desc limit $2) recent
             order by at, seq
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var lines = new List<AppLogLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new AppLogLine(reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), (LogStream)reader.GetInt16(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5)));
        }
        return lines;
    }

    public async Task AppendAsync(IReadOnlyList<TaskLogLine> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0) return;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var writer = await connection.BeginBinaryImportAsync(
            $"copy {_table} (task_id, seq, stream, at, line) from stdin (format binary)", cancellationToken);
        foreach (var line in lines)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(line.TaskId, NpgsqlDbType.Uuid, cancellationToken);
            await writer.WriteAsync(line.Sequence, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync((short)line.Stream, NpgsqlDbType.Smallint, cancellationToken);
            await writer.WriteAsync(line.Timestamp, NpgsqlDbType.TimestampTz, cancellationToken);
            await writer.WriteAsync(line.Line, NpgsqlDbType.Text, cancellationToken);
        }
        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// Cuts each task's stored output down to at most <paramref name="maxBytes"/> bytes (UTF-8) by deleting
    /// its oldest lines: the end of the output, where a failure usually says why, is what survives. Line
    /// numbers are kept, so a reader sees that the first lines are gone. One statement for all the tasks.
    /// </summary>
    /// <returns>How many lines were deleted.</returns>
    public async Task<int> TrimAsync(IReadOnlyCollection<Guid> taskIds, long maxBytes, CancellationToken cancellationToken)
    {
        if (taskIds.Count == 0) return 0;
        await using var command = dataSource.CreateCommand(
            $"""
             delete from {_table} l
             using (select task_id, seq,
                           sum(octet_length(line)) over (partition by task_id order by seq desc rows unbounded preceding) as bytes_from_end
                    from {_table} where task_id = any($1)) t
             where l.task_id = t.task_id and l.seq = t.seq and t.bytes_from_end > $2
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = taskIds.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = maxBytes });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The highest line number stored for a task; 0 when it has none.</summary>
    public async Task<long> LastSequenceAsync(Guid taskId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select coalesce(max(seq), 0) from {_table} where task_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = taskId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Lines of one task after <paramref name="afterSequence"/>, in order, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<TaskLogLine>> ReadAsync(Guid taskId, long afterSequence, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"select seq, stream, at, line from {_table} where task_id = $1 and seq > $2 order by seq limit $3");
        command.Parameters.Add(new NpgsqlParameter { Value = taskId });
        command.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var lines = new List<TaskLogLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new TaskLogLine(taskId, reader.GetInt64(0), (LogStream)reader.GetInt16(1),
                reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3)));
        }
        return lines;
    }
}

/// <summary>One line of an app's combined log, tagged with the task that printed it.</summary>
public sealed record AppLogLine(Guid TaskId, string TaskName, long Sequence, LogStream Stream, DateTimeOffset Timestamp, string Line);

internal static class TaskLogTable
{
    public const string Name = "task_logs";

    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, Name, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("task_id").AsPrimaryKey();
        table.AddColumn<long>("seq").AsPrimaryKey();
        table.AddColumn("stream", "smallint").NotNull();
        table.AddColumn("at", "timestamptz").NotNull();
        table.AddColumn<string>("line").NotNull();
        return table;
    }
}
