using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Dispatching;

/// <summary>
/// Closes the window between a task's first event and its RunTask: if the Api (or the Scheduler) died after
/// writing the task and before publishing, or the message was lost, no executor ever hears of it. Tasks
/// still PENDING <see cref="ExecutorOptions.RedispatchAfter"/> after their last dispatch are published again.
/// The re-dispatch is recorded first, at the version read, so two executors never both re-publish a task in
/// the same round; a copy that still arrives twice is dropped by the claim.
/// </summary>
internal sealed class PendingTaskRedispatcher(
    IDocumentStore store, IBus bus, IOptions<ExecutorOptions> options, TimeProvider clock, ILogger<PendingTaskRedispatcher> logger)
    : BackgroundService
{
    private const int Batch = 500;

    /// <summary>The executors' RunTask queue, as the endpoint name formatter names it ("executor" prefix).</summary>
    internal const string RunTaskQueue = "executor-run-task";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var after = options.Value.RedispatchAfter;
        using var timer = new PeriodicTimer(after / 3, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RedispatchAsync(after, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Looking for undispatched tasks failed; retrying");
            }
        }
    }

    private async Task RedispatchAsync(TimeSpan after, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var due = now - after;
        IReadOnlyList<Guid> stale;
        await using (var query = store.QuerySession())
            stale = await query.Query<AppTask>()
                .Where(t => t.State == TaskState.Pending && ((t.RetryAt != null && t.RetryAt <= now) || (t.RetryAt == null && t.UpdatedAt < due)))
                .OrderBy(t => t.UpdatedAt).Select(t => t.Id).Take(Batch).ToListAsync(ct);

        foreach (var id in stale)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AppTask>(id, ct);
            if (stream.Aggregate is not { State: TaskState.Pending } task || (task.RetryAt is { } retryAt ? retryAt > now : task.UpdatedAt >= due)) continue;
            stream.AppendOne(new TaskRedispatched(id, clock.GetUtcNow()));
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (JasperFx.ConcurrencyException)
            {
                continue; // another executor re-dispatched it, or it was claimed meanwhile
            }
            logger.LogWarning("Task {TaskId} was still pending {After} after dispatch; sending it again", id, after);
            // Straight to the executors' queue: only the Api and the Scheduler may write to the RunTask exchange.
            var executors = await bus.GetSendEndpoint(new Uri($"queue:{RunTaskQueue}"));
            await executors.Send(TaskMessages.RunTask(task), ct);
        }
    }
}
