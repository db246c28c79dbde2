using Marten;
using Microsoft.Extensions.Options;
using Platform.Retention.Pruning;
using Platform.TaskStore.Apps;

namespace Platform.Retention.Sweeping;

/// <summary>
/// Marks every app for pruning at start-up and then every <see cref="RetentionOptions.SweepInterval"/>:
/// the safety net for completions whose message never arrived (or arrived while this service was down),
/// and for the age limit, which time alone makes bite.
/// </summary>
public sealed class RetentionSweep(IDocumentStore store, DirtyApps dirty, IOptions<RetentionOptions> options, ILogger<RetentionSweep> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        do
        {
            try
            {
                await using var session = store.QuerySession();
                var apps = await session.Query<App>().Select(a => a.Name).ToListAsync(stopping);
                foreach (var app in apps) dirty.Mark(app, PruneReason.Sweep);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                logger.LogError(ex, "Listing apps for the retention sweep failed; the next sweep tries again");
            }
        } while (await timer.WaitForNextTickAsync(stopping));
    }
}
