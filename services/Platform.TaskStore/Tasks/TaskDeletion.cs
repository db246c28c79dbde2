using Microsoft.Extensions.Options;
using Npgsql;
using Platform.TaskStore.Logs;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// The one way tasks are deleted (retention, job deletion, forced app deletion): each task's event stream,
/// its <see cref="AppTask"/> row and its log lines go together, in one transaction, for a whole batch of
/// ids at once (a handful of statements per batch, not round trips per task or per line). Only tasks in a
/// terminal state are deleted: a task that is still pending or running is left alone, whatever the caller
/// asked, so that nothing in flight loses its history. Each deleted id is kept as a tombstone
/// (<see cref="WasDeletedAsync"/>): a RunTask still queued for a task that was cancelled while pending and
/// then deleted (a job's deletion does exactly that) must not bring it back as a new task.
/// </summary>
public sealed class TaskDeletion(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private readonly string _schema = options.Value.Schema;

    private static readonly string Ended = DocumentFields.OneOf($"t.{AppTask.StateColumn}", TaskStateNames.Finished);

    /// <returns>The ids that were deleted (terminal tasks among <paramref name="taskIds"/> that still existed).</returns>
    public async Task<IReadOnlyList<Guid>> DeleteAsync(IReadOnlyCollection<Guid> taskIds, CancellationToken ct)
    {
        if (taskIds.Count == 0) return [];
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var deleted = new List<Guid>(taskIds.Count);
        // Lock and delete the read-model rows first: that decides which tasks go, and a concurrent deleter
        // (a second Retention replica) finds them gone instead of deleting them twice.
        await using (var command = new NpgsqlCommand(
            $"delete from {_schema}.{AppTask.TableName} t where id = any($1) and {Ended} returning id", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = taskIds.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) deleted.Add(reader.GetGuid(0));
        }
        if (deleted.Count > 0)
        {
            var ids = deleted.ToArray();
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Command($"delete from {_schema}.mt_events where stream_id = any($1)", ids),
                    Command($"delete from {_schema}.mt_streams where id = any($1)", ids),
                    Command($"delete from {_schema}.{TaskLogTable.Name} where task_id = any($1)", ids),
                    Command($"insert into {_schema}.{DeletedTaskTable.Name} (task_id, deleted_at) select unnest($1), now() on conflict do nothing", ids),
                },
            };
            await batch.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return deleted;
    }

    /// <summary>Whether a task with this id existed and was deleted (so a late RunTask for it must be dropped).</summary>
    public async Task<bool> WasDeletedAsync(Guid taskId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select exists (select 1 from {_schema}.{DeletedTaskTable.Name} where task_id = $1)");
        command.Parameters.Add(new NpgsqlParameter { Value = taskId });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private static NpgsqlBatchCommand Command(string sql, Guid[] ids) =>
        new(sql) { Parameters = { new NpgsqlParameter { Value = ids } } };
}

/// <summary>The ids of deleted tasks, with when they were deleted.</summary>
internal static class DeletedTaskTable
{
    public const string Name = "deleted_tasks";

    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, Name, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("task_id").AsPrimaryKey();
        table.AddColumn("deleted_at", "timestamptz").NotNull();
        return table;
    }
}
