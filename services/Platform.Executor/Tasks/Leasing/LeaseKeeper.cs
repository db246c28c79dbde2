using Microsoft.Extensions.Options;
using Platform.Reaping;
using Platform.TaskStore.Leases;

namespace Platform.Executor.Tasks.Leasing;

/// <summary>
/// Keeps this executor's lease alive. At start-up it also settles what a previous run under the same name left
/// RUNNING (<see cref="LeftBehindTasks"/>), at once rather than after the lease. Finding the tasks of other
/// lost executors is <see cref="ReapingRegistration.AddLostTaskReaping"/>'s, which every worker service runs.
/// </summary>
internal sealed class LeaseKeeper(
    ExecutorLeases leases, LeftBehindTasks leftBehind, IOptions<ExecutorOptions> options, TimeProvider clock, ILogger<LeaseKeeper> logger)
    : BackgroundService
{
    private readonly DateTimeOffset _started = clock.GetUtcNow();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await leases.RenewAsync(settings.Name, settings.LeaseDuration, cancellationToken);
        await leftBehind.SettleAsync(_started, cancellationToken);
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
                await leases.RenewAsync(settings.Name, settings.LeaseDuration, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Renewing the lease of executor {Executor} failed; retrying", settings.Name);
            }
        }
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
