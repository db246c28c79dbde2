using Microsoft.Extensions.Options;
using Npgsql;
using Platform.TaskStore.Tasks;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Platform.TaskStore.Leases;

/// <summary>A running task whose executor's lease ran out.</summary>
public sealed record OrphanedTask(Guid TaskId, string App, string Executor, DateTimeOffset? LastRenewal, TimeSpan? Lease = null);

/// <summary>
/// Each executor's lease on the tasks it runs: one row per executor, renewed every few seconds. A task is
/// held by the lease of the executor that claimed it (recorded on the task), so one renewal covers all of
/// an executor's tasks; when it stops being renewed (the executor was killed, its machine went away), every
/// task it held is orphaned. Each renewal records the lease's length with it (<c>expires_at</c>), so that any
/// service can judge a lease without knowing how the executor was configured.
/// </summary>
public sealed class ExecutorLeases(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private readonly string _table = $"{options.Value.Schema}.{ExecutorLeaseTable.Name}";
    private readonly string _tasks = $"{options.Value.Schema}.{AppTask.TableName}";

    private const string TaskApp = $"t.{AppTask.AppColumn}";
    private static readonly string TaskExecutor = DocumentFields.Text("t", nameof(AppTask.Executor));
    // Found through the partial index of unfinished tasks (which these states imply), then read from the few rows.
    private static readonly string OnAnExecutor = DocumentFields.OneOf($"t.{AppTask.StateColumn}", TaskState.Running, TaskState.Canceling);

    // Leases written before expires_at existed are read as this long.
    private const string FormerLease = "interval '15 seconds'";

    public async Task RenewAsync(string executor, TimeSpan lease, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"""
             insert into {_table} (executor, renewed_at, expires_at) values ($1, now(), now() + $2)
             on conflict (executor) do update set renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = executor });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Removes this executor's lease on a clean shutdown, after its tasks were recorded as ended.</summary>
    public async Task ReleaseAsync(string executor, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"delete from {_table} where executor = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = executor });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Running or canceling tasks whose executor's lease has expired (by the database's clock) or that hold
    /// none. A lease longer than <paramref name="judgeLeasesUpTo"/> is not judged yet: the caller has not
    /// reached the database for that long, so the executor may not have been able to renew it either.
    /// </summary>
    public async Task<IReadOnlyList<OrphanedTask>> FindOrphansAsync(TimeSpan judgeLeasesUpTo, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"""
             select t.id, {TaskApp}, {TaskExecutor}, l.renewed_at, coalesce(l.expires_at - l.renewed_at, {FormerLease})
             from {_tasks} t left join {_table} l on l.executor = {TaskExecutor}
             where {OnAnExecutor}
               and (l.executor is null
                    or (coalesce(l.expires_at, l.renewed_at + {FormerLease}) < now()
                        and coalesce(l.expires_at - l.renewed_at, {FormerLease}) <= $1))
             limit 1000
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = judgeLeasesUpTo });
        return await ReadAsync(command, ct);
    }

    /// <summary>Tasks a previous run of this executor (same name) left running: they died with it.</summary>
    public async Task<IReadOnlyList<OrphanedTask>> FindLeftBehindAsync(string executor, DateTimeOffset startedBefore, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"""
             select t.id, {TaskApp}, {TaskExecutor}, null::timestamptz, null::interval
             from {_tasks} t
             where {OnAnExecutor} and {TaskExecutor} = $1
               and ({DocumentFields.Text("t", nameof(AppTask.StartedAt))})::timestamptz < $2
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = executor });
        command.Parameters.Add(new NpgsqlParameter { Value = startedBefore });
        return await ReadAsync(command, ct);
    }

    private static async Task<IReadOnlyList<OrphanedTask>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var orphans = new List<OrphanedTask>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            orphans.Add(new OrphanedTask(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<TimeSpan>(4)));
        return orphans;
    }
}

internal static class ExecutorLeaseTable
{
    public const string Name = "executor_leases";

    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, Name, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("executor").AsPrimaryKey();
        table.AddColumn("renewed_at", "timestamptz").NotNull();
        // Nullable: added to tables that already hold leases.
        table.AddColumn("expires_at", "timestamptz");
        return table;
    }
}
