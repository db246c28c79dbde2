using Marten;
using MassTransit;
using Npgsql;
using Platform.Contracts;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>
/// Runs a firing's statements once in a transaction that is rolled back, so that Marten generates and
/// compiles its code for them at start-up, and opens the publish endpoints (declaring their exchanges),
/// instead of making the first real occurrence a second or more late.
/// </summary>
internal sealed class FiringWarmUp(IDocumentStore store, NpgsqlDataSource dataSource, IBus bus, TimeProvider clock)
{
    public async Task RunAsync(CancellationToken ct)
    {
        await bus.GetPublishSendEndpoint<RunTask>();
        await bus.GetPublishSendEndpoint<TerminateTask>();
        await bus.GetPublishSendEndpoint<TaskTerminated>();

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, false));
        var id = Guid.NewGuid();
        await JobTasks.UnfinishedAsync(session, "", ct);
        await session.LoadAsync<App>("", ct);
        await UnfinishedTaskCounts.OfAsync(session, new App { Name = "", Space = "" }, ct);
        session.Insert(new JobOccurrence { Id = id });
        session.Events.StartStream<AppTask>(id, new TaskAccepted(id, "", 0, "", "", 1, 1, new Dictionary<string, string>(), clock.GetUtcNow()));
        session.Store(new ScheduleProgress { Id = id });
        await session.SaveChangesAsync(ct);
        await transaction.RollbackAsync(ct);
    }
}
