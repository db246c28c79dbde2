using System.Collections.Concurrent;
using System.Diagnostics;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Retention.Telemetry;
using Platform.ServiceDefaults;
using Platform.TaskStore;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.Retention.Pruning;

/// <summary>
/// One prune of one app: read its finished tasks, let <see cref="RetentionPolicy"/> choose, delete the
/// chosen through <see cref="TaskDeletion"/> in batches, cap the kept tasks' output, record a
/// <see cref="RetentionRun"/>.
/// Two replicas never prune the same app at once: each prune holds a PostgreSQL advisory lock keyed on the
/// schema and the app, taken with try-lock so a replica that finds it held moves on (and retries later)
/// instead of queueing behind it. Even without the lock, the deletion's <c>delete ... returning</c> would
/// make each task go once and be counted once.
/// </summary>
public sealed class AppPruner(
    NpgsqlDataSource dataSource,
    IDocumentStore store,
    TaskDeletion deletion,
    FinishedTasks finishedTasks,
    TaskLogStore logs,
    IOptions<RetentionOptions> options,
    IOptions<TaskStoreOptions> storeOptions,
    RetentionTelemetry telemetry,
    TimeProvider clock,
    ILogger<AppPruner> logger)
{
    // How far back from its previous trim of an app a replica trims again: a task's end time comes from its
    // executor's clock, and its final event may be appended a moment after that time.
    private static readonly TimeSpan TrimOverlap = TimeSpan.FromMinutes(5);

    // Per app, the time this replica's last log trim covered and the cap it applied: a kept task's output is
    // capped soon after it finishes, and later prunes do not scan the output of all 500 kept tasks again.
    // Empty after a restart, and ignored when the cap changed, so that everything is then trimmed once.
    private readonly ConcurrentDictionary<string, (DateTimeOffset UpTo, long Cap)> _logsTrimmed = new();

    private readonly string _schema = storeOptions.Value.Schema;

    /// <returns>False when another replica is pruning this app right now.</returns>
    public async Task<bool> TryPruneAsync(string app, PruneReason reason, CancellationToken ct)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        var lockKey = $"{_schema}/retention/{app}";
        if (!await AdvisoryLockAsync(lockConnection, "pg_try_advisory_lock", lockKey, ct)) return false;
        try
        {
            await PruneAsync(app, reason, ct);
            return true;
        }
        finally
        {
            // Closing the connection would release it too; unlocking keeps the pooled connection clean.
            await AdvisoryLockAsync(lockConnection, "pg_advisory_unlock", lockKey, CancellationToken.None);
        }
    }

    private async Task PruneAsync(string app, PruneReason reason, CancellationToken ct)
    {
        var startedAt = clock.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        AppRetention? overrides;
        await using (var session = store.QuerySession())
            overrides = (await session.LoadAsync<App>(app, ct))?.Retention;
        var limits = RetentionLimits.Resolve(options.Value, overrides);
        var readAt = clock.GetUtcNow();
        var finished = await finishedTasks.ReadAsync(app, ct);
        var doomed = RetentionPolicy.SelectForDeletion(finished, limits, readAt);

        var deleted = 0;
        var trimmed = 0;
        try
        {
            // Batches are disjoint sets of tasks, so a few can be deleted side by side: PostgreSQL does the
            // work, one backend per batch, and one backend alone leaves the other cores idle.
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.DeleteParallelism, CancellationToken = ct };
            await Parallel.ForEachAsync(doomed.Chunk(options.Value.BatchSize), parallel, async (batch, token) =>
            {
                var removed = (await deletion.DeleteAsync(batch, token)).Count;
                Interlocked.Add(ref deleted, removed);
                telemetry.Deleted(app, removed);
            });
            if (limits.MaxLogBytes is { } maxLogBytes)
            {
                var since = _logsTrimmed.TryGetValue(app, out var last) && last.Cap == maxLogBytes ? last.UpTo : DateTimeOffset.MinValue;
                var gone = doomed.ToHashSet();
                var recentlyFinished = finished.Where(t => t.FinishedAt >= since && !gone.Contains(t.Id)).Select(t => t.Id).ToList();
                trimmed = await logs.TrimAsync(recentlyFinished, maxLogBytes, ct);
                _logsTrimmed[app] = (readAt - TrimOverlap, maxLogBytes);
            }
        }
        finally
        {
            // Also after a failure or shutdown half-way: what was deleted is recorded exactly.
            if (deleted > 0 || trimmed > 0) await RecordAsync(app, reason, deleted, trimmed, startedAt, stopwatch.Elapsed);
        }
    }

    private async Task RecordAsync(string app, PruneReason reason, int deleted, int trimmed, DateTimeOffset startedAt, TimeSpan elapsed)
    {
        await using var session = store.LightweightSession();
        session.Store(new RetentionRun
        {
            Id = Guid.CreateVersion7(),
            App = app,
            Reason = reason,
            Deleted = deleted,
            LogLinesTrimmed = trimmed,
            Replica = ServiceDefaultsRegistration.ReplicaName,
            StartedAt = startedAt,
            ElapsedMs = elapsed.TotalMilliseconds,
        });
        await session.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Retention pruned app {App} ({Reason}): {Deleted} tasks deleted, {Trimmed} log lines trimmed in {Elapsed}",
            app, reason, deleted, trimmed, elapsed);
    }

    private static async Task<bool> AdvisoryLockAsync(NpgsqlConnection connection, string function, string key, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select {function}(hashtextextended($1, 0))", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }
}
