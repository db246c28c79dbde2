using Marten;
using Marten.Services;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.TaskStore.Jobs;

/// <summary>
/// Makes creating a job's task conditional on the job: the session it hands out works inside a transaction
/// that already holds the job's row (and the schedule's) FOR SHARE, having checked its state. So a suspend,
/// a schedule's removal or a job's deletion (each an update of those rows) either waits for an in-flight
/// task creation to commit, and then sees its task, or comes first and prevents it; no task slips in after.
/// </summary>
public sealed class JobGuard(IDocumentStore store, NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private readonly string _activeSchedule =
        $"""
         select 1 from {options.Value.Schema}.mt_doc_job j, {options.Value.Schema}.mt_doc_jobschedule s
         where j.id = $1 and s.id = $2 and j.data ->> 'State' = 'Active'
         for share
         """;

    private readonly string _activeSchedules =
        $"""
         select s.id from {options.Value.Schema}.mt_doc_jobschedule s
         join {options.Value.Schema}.mt_doc_job j on j.id = s.data ->> 'Job'
         where s.id = any($1) and j.data ->> 'State' = 'Active'
         for share
         """;

    private readonly string _notDeleting =
        $"select 1 from {options.Value.Schema}.mt_doc_job j where j.id = $1 and j.data ->> 'State' <> 'Deleting' for share";

    /// <summary>For a scheduled run: null when the job is not active or the schedule is gone.</summary>
    public Task<GuardedSession?> WhileScheduledAsync(string job, Guid scheduleId, CancellationToken ct) =>
        OpenAsync(_activeSchedule, [job, scheduleId], ct);

    /// <summary>
    /// For scheduled runs of several schedules in one transaction: the session and which of the schedules
    /// are still there with their job active (those rows held); null when none is.
    /// </summary>
    public async Task<(GuardedSession Session, HashSet<Guid> Active)?> WhileSchedulesActiveAsync(IReadOnlyCollection<Guid> scheduleIds, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            var active = new HashSet<Guid>();
            await using (var command = new NpgsqlCommand(_activeSchedules, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = scheduleIds.ToArray() });
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) active.Add(reader.GetGuid(0));
            }
            if (active.Count == 0)
            {
                await connection.DisposeAsync();
                return null;
            }
            return (new GuardedSession(connection, transaction, store.LightweightSession(SessionOptions.ForTransaction(transaction, false))), active);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>For an ad hoc run: null when the job is gone or being deleted.</summary>
    public Task<GuardedSession?> WhileNotDeletingAsync(string job, CancellationToken ct) =>
        OpenAsync(_notDeleting, [job], ct);

    private async Task<GuardedSession?> OpenAsync(string sql, object[] parameters, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
            if (await command.ExecuteScalarAsync(ct) is null)
            {
                await connection.DisposeAsync();
                return null;
            }
            return new GuardedSession(connection, transaction, store.LightweightSession(SessionOptions.ForTransaction(transaction, false)));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}

/// <summary>A Marten session inside a transaction that holds a job's row; nothing is stored until <see cref="CommitAsync"/>.</summary>
public sealed class GuardedSession(NpgsqlConnection connection, NpgsqlTransaction transaction, IDocumentSession session) : IAsyncDisposable
{
    public IDocumentSession Session { get; } = session;

    public async Task CommitAsync(CancellationToken ct)
    {
        await Session.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
