using Microsoft.Extensions.Options;
using Platform.Retention.Telemetry;

namespace Platform.Retention.Pruning;

/// <summary>
/// Prunes marked apps one at a time. An app another replica is pruning right now, or whose prune failed
/// (the database restarting), is marked again after a pause, so that nothing is forgotten and a failure
/// never turns into a tight loop. An app whose tasks keep ending is pruned at most once per
/// <see cref="RetentionOptions.MinPruneInterval"/>: each prune reads the app's finished tasks, and doing that
/// for every one of a hundred completions a second cost more than the tasks themselves (docs/benchmarks.md).
/// </summary>
public sealed class PruningWorker(
    DirtyApps dirty, AppPruner pruner, RetentionTelemetry telemetry, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<PruningWorker> logger)
    : BackgroundService
{
    private static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FailureRetry = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, DateTimeOffset> _lastPruned = new();

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var (app, reason) = await dirty.NextAsync(stopping);
            var now = clock.GetUtcNow();
            if (reason == PruneReason.TaskEnded && _lastPruned.TryGetValue(app, out var last) && now - last < options.Value.MinPruneInterval)
            {
                dirty.MarkLater(app, reason, options.Value.MinPruneInterval - (now - last), stopping);
                continue;
            }
            _lastPruned[app] = now;
            using var prune = telemetry.StartPrune(app, reason.ToString());
            try
            {
                if (!await pruner.TryPruneAsync(app, reason, stopping)) dirty.MarkLater(app, reason, BusyRetry, stopping);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                logger.LogError(ex, "Pruning app {App} failed; trying again in {Delay}", app, FailureRetry);
                dirty.MarkLater(app, reason, FailureRetry, stopping);
            }
        }
    }
}
