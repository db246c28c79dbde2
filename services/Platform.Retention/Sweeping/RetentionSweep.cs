using Marten;
using Microsoft.Extensions.Options;
using Platform.Retention.Pruning;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Retention.Sweeping;

/// <summary>
/// Marks apps for pruning at start-up and then every <see cref="RetentionOptions.SweepInterval"/>: the
/// safety net for completions whose message never arrived (or arrived while this service was down), and
/// for the age limit, which time alone makes bite. The first sweep marks every app; later ones only the
/// apps that can have something to prune (<see cref="RetentionCandidates"/>), so that an installation of
/// many apps within their limits costs one statement a sweep.
/// </summary>
public sealed class RetentionSweep(
    IDocumentStore store, RetentionCandidates candidates, DirtyApps dirty, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionSweep> logger)
    : BackgroundService
{
    // Finished-at times come from the executors' clocks, and a task's end may be stored a moment after it:
    // a sweep looks this far back before the previous one for tasks whose output may need capping.
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
        DateTimeOffset? previous = null;
        do
        {
            try
            {
                var startedAt = clock.GetUtcNow();
                var apps = previous is { } since ? await CandidatesAsync(since, startedAt, stopping) : await EveryAppAsync(stopping);
                foreach (var app in apps) dirty.Mark(app, PruneReason.Sweep);
                previous = startedAt;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                logger.LogError(ex, "Listing apps for the retention sweep failed; the next sweep tries again");
            }
        } while (await timer.WaitForNextTickAsync(stopping));
    }

    private async Task<IReadOnlyList<string>> EveryAppAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<App>().Select(a => a.Name).ToListAsync(ct);
    }

    private async Task<IReadOnlyList<string>> CandidatesAsync(DateTimeOffset previous, DateTimeOffset now, CancellationToken ct)
    {
        var limits = RetentionLimits.Resolve(options.Value, null);
        return await candidates.ReadAsync(limits.MaxTasks, now - limits.MaxAge, limits.MaxLogBytes is null ? null : previous - Overlap, ct);
    }
}
