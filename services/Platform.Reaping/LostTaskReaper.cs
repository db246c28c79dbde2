using System.Diagnostics.Metrics;
using Marten;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.ServiceDefaults;
using Platform.TaskStore.Leases;
using Platform.TaskStore.Tasks;

namespace Platform.Reaping;

/// <summary>
/// Ends one task whose executor is gone: FAILED naming the executor, or requeued where its
/// <c>max_attempts</c> allows (a task being cancelled never is). An optimistic append, so when several
/// services notice the same orphan, one records it and the others find it already ended.
/// </summary>
public sealed class LostTaskReaper
{
    private readonly IDocumentStore _store;
    private readonly IBus _bus;
    private readonly TimeProvider _clock;
    private readonly ReapingOptions _options;
    private readonly ILogger<LostTaskReaper> _logger;
    private readonly Counter<long> _leasesExpired;
    private readonly TaskCompletions _completed;

    public LostTaskReaper(IDocumentStore store, IBus bus, TimeProvider clock, IOptions<ReapingOptions> options, IMeterFactory meters,
        ILogger<LostTaskReaper> logger)
    {
        _store = store;
        _bus = bus;
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        var meter = meters.Create(ServiceDefaultsRegistration.TelemetryName);
        _leasesExpired = meter.CreateCounter<long>("platform.executor.leases_expired", "{task}",
            "Tasks found running on an executor that was lost (its lease expired, or it restarted), failed or requeued.");
        _completed = new TaskCompletions(meter);
    }

    /// <summary>Records the orphan's end (or its requeue); false if it had already ended or another service recorded it first.</summary>
    public async Task<bool> ReapAsync(OrphanedTask orphan, string reason, CancellationToken ct)
    {
        await using var session = _store.LightweightSession();
        var stream = await session.Events.FetchForWriting<AppTask>(orphan.TaskId, ct);
        if (stream.Aggregate is not { State: TaskState.Running or TaskState.Canceling } task) return false;
        var now = _clock.GetUtcNow();
        var decision = TaskLifecycle.Orphaned(task, reason, orphan.Executor, now, _options.RequeueAfter);
        stream.AppendOne(decision);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.ConcurrencyException)
        {
            return false; // another service recorded it first, or the task ended after all
        }
        _leasesExpired.Add(1, new KeyValuePair<string, object?>(TelemetryTags.AppName, orphan.App));
        if (decision is TaskRequeued requeued)
        {
            // The executors' re-dispatcher publishes it again once RetryAt has passed.
            _logger.LogWarning("Task {TaskId} requeued as attempt {Attempt} of {Max}: {Reason}", orphan.TaskId, requeued.Attempt, task.MaxAttempts, reason);
            return true;
        }
        _completed.Add(orphan.App, TelemetryTags.Failed);
        _logger.LogWarning("Task {TaskId} failed: {Reason}", orphan.TaskId, reason);
        try
        {
            await _bus.Publish(TaskMessages.Completed(orphan.TaskId, orphan.App, exitCode: null, reason, orphan.Executor, now), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The end is stored; TaskCompleted only tells Retention to prune sooner, and its sweep catches up.
            _logger.LogWarning(ex, "Announcing the end of lost task {TaskId} failed", orphan.TaskId);
        }
        return true;
    }
}
