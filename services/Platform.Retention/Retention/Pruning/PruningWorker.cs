using Platform.Retention.Telemetry;

namespace Platform.Retention.Retention.Pruning;

/// <summary>
/// Prunes marked apps one at a time. An app another replica is pruning right now, or whose prune failed
/// (the database restarting), is marked again after a pause, so that nothing is forgotten and a failure
/// never turns into a tight loop.
/// </summary>
public sealed class PruningWorker(DirtyApps dirty, AppPruner pruner, RetentionTelemetry telemetry, ILogger<PruningWorker> logger) : BackgroundService
{
    private static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FailureRetry = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var (app, reason) = await dirty.NextAsync(stopping);
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
