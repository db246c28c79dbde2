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
/// A firing of a Forbid or Replace job holds the job's row exclusively instead, so that two firings of one
/// job (two schedules due in the same instant, on one Scheduler or two) take turns, and the second decides
/// on the task the first started.
/// </summary>
public sealed class JobGuard(IDocumentStore store, NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private static readonly string JobIsActive = DocumentFields.Is(DocumentFields.Text("j", nameof(Job.State)), JobState.Active);

    private readonly string _jobs = $"{options.Value.Schema}.{Job.TableName}";
    private readonly string _schedules = $"{options.Value.Schema}.{JobSchedule.TableName}";

    private string ActiveSchedule(string locking) =>
        $"select 1 from {_jobs} j, {_schedules} s where j.id = $1 and s.id = $2 and {JobIsActive} {locking}";

    private string ActiveSchedules =>
        $"""
         select s.id from {_schedules} s
         join {_jobs} j on j.id = {DocumentFields.Text("s", nameof(JobSchedule.Job))}
         where s.id = any($1) and {JobIsActive}
         for share
         """;

    private string NotDeleting =>
        $"select 1 from {_jobs} j where j.id = $1 and {DocumentFields.IsNot(DocumentFields.Text("j", nameof(Job.State)), JobState.Deleting)} for share";

    /// <summary>
    /// For a scheduled run: null when the job is not active or the schedule is gone. <paramref name="exclusive"/>
    /// holds the job's row against every other firing of the job until the transaction ends.
    /// </summary>
    public async Task<GuardedSession?> WhileScheduledAsync(string job, Guid scheduleId, bool exclusive, CancellationToken ct) =>
        (await OpenAsync(ActiveSchedule(exclusive ? "for no key update of j for share of s" : "for share"), [job, scheduleId], ct))?.Session;

    /// <summary>
    /// For scheduled runs of several schedules in one transaction: the session and which of the schedules
    /// are still there with their job active (those rows held); null when none is.
    /// </summary>
    public async Task<(GuardedSession Session, HashSet<Guid> Active)?> WhileSchedulesActiveAsync(IReadOnlyCollection<Guid> scheduleIds, CancellationToken ct) =>
        await OpenAsync(ActiveSchedules, [scheduleIds.ToArray()], ct) is { } held ? (held.Session, held.Rows.Cast<Guid>().ToHashSet()) : null;

    /// <summary>For an ad hoc run: null when the job is gone or being deleted.</summary>
    public async Task<GuardedSession?> WhileNotDeletingAsync(string job, CancellationToken ct) =>
        (await OpenAsync(NotDeleting, [job], ct))?.Session;

    /// <summary>Runs the guard query in a new transaction; null (and nothing held) when it found no row.</summary>
    private async Task<(GuardedSession Session, List<object> Rows)?> OpenAsync(string sql, object[] parameters, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            var rows = new List<object>();
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) rows.Add(reader.GetValue(0));
            }
            if (rows.Count == 0)
            {
                await connection.DisposeAsync();
                return null;
            }
            return (new GuardedSession(connection, transaction, store.LightweightSession(SessionOptions.ForTransaction(transaction, false))), rows);
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
