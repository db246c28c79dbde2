using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.TaskStore.Leases;

namespace Platform.Reaping;

/// <summary>
/// Every <see cref="ReapingOptions.Interval"/>, ends the RUNNING and CANCELING tasks whose executor's lease
/// ran out (or that hold none). It runs in every worker service, so that a lost executor's work ends even
/// when no other executor is left to notice.
/// </summary>
internal sealed class LostExecutorSweep(
    ExecutorLeases leases, LostTaskReaper reaper, IOptions<ReapingOptions> options, TimeProvider clock, ILogger<LostExecutorSweep> logger)
    : BackgroundService
{
    // When this service could not reach the database, neither could the executors renew their leases: a
    // lease is judged only by a sweep that has reached the database for at least that lease's length.
    private DateTimeOffset _reachableSince;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _reachableSince = clock.GetUtcNow();
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var orphan in await leases.FindOrphansAsync(clock.GetUtcNow() - _reachableSince, stoppingToken))
                {
                    var silence = orphan.LastRenewal is { } last ? $"no lease renewal since {last:O}" : "it holds no lease";
                    var lease = orphan.Lease is { } length ? $" (lease {length.TotalSeconds:0} s)" : "";
                    await reaper.ReapAsync(orphan, $"executor {orphan.Executor} was lost: {silence}{lease}", stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _reachableSince = clock.GetUtcNow();
                logger.LogWarning("Looking for the tasks of lost executors failed ({Error}); retrying", ex.Message);
            }
        }
    }
}
