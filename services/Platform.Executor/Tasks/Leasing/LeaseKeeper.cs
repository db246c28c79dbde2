using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Executor.Telemetry;
using Platform.TaskStore.Leases;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Leasing;

/// <summary>
/// Keeps this executor's lease alive and fails the tasks of executors whose lease ran out (every executor
/// watches every other: no single watcher to lose). At start-up it also fails what a previous run under the
/// same name left RUNNING: those processes died with it. Failing is an optimistic append, so when two
/// executors notice the same orphan, one records it and the other finds it already ended.
/// </summary>
internal sealed class LeaseKeeper(
    ExecutorLeases leases, IDocumentStore store, IBus bus, IOptions<ExecutorOptions> options, TimeProvider clock,
    ExecutorTelemetry telemetry, ILogger<LeaseKeeper> logger)
    : BackgroundService
{
    private readonly DateTimeOffset _started = clock.GetUtcNow();
    private DateTimeOffset _lastRenewalFailure = DateTimeOffset.MinValue;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var name = options.Value.Name;
        await leases.RenewAsync(name, cancellationToken);
        foreach (var task in await leases.FindLeftBehindAsync(name, _started, cancellationToken))
            await FailAsync(task, $"executor {name} restarted while the task ran", cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.LeaseRenewInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await leases.RenewAsync(settings.Name, stoppingToken);
                // After an outage (PostgreSQL down) every lease looks stale at once: give the other executors
                // one lease period to renew theirs before judging them lost.
                if (clock.GetUtcNow() - _lastRenewalFailure < settings.LeaseDuration) continue;
                foreach (var orphan in await leases.FindOrphansAsync(settings.LeaseDuration, stoppingToken))
                {
                    var silence = orphan.LastRenewal is { } last ? $"no lease renewal since {last:O}" : "it holds no lease";
                    await FailAsync(orphan, $"executor {orphan.Executor} was lost: {silence} (lease {settings.LeaseDuration.TotalSeconds:0} s)", stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _lastRenewalFailure = clock.GetUtcNow();
                logger.LogWarning(ex, "Renewing the lease of executor {Executor} failed; retrying", settings.Name);
            }
        }
    }

    private async Task FailAsync(OrphanedTask orphan, string reason, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<AppTask>(orphan.TaskId, ct);
        if (stream.Aggregate is not { State: TaskState.Running or TaskState.Canceling } task) return;
        var now = clock.GetUtcNow();
        var decision = TaskLifecycle.Orphaned(task, reason, orphan.Executor, now, options.Value.RedispatchAfter);
        stream.AppendOne(decision);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.ConcurrencyException)
        {
            return; // another executor recorded it first, or the task ended after all
        }
        telemetry.ExecutorLost(orphan.App, requeued: decision is TaskRequeued);
        if (decision is TaskRequeued requeued)
        {
            // The re-dispatcher publishes it again once RetryAt has passed.
            logger.LogWarning("Task {TaskId} requeued as attempt {Attempt} of {Max}: {Reason}", orphan.TaskId, requeued.Attempt, task.MaxAttempts, reason);
            return;
        }
        logger.LogWarning("Task {TaskId} failed: {Reason}", orphan.TaskId, reason);
        await bus.Publish(new TaskCompleted
        {
            TaskId = orphan.TaskId, App = orphan.App, Succeeded = false, FailureReason = reason, Executor = orphan.Executor, CompletedAt = now,
        }, ct);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Registered before the TaskRunner, so this runs after it recorded the end of every task it held.
        try
        {
            await leases.ReleaseAsync(options.Value.Name, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not release the lease of executor {Executor}", options.Value.Name);
        }
    }
}
