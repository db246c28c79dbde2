namespace Platform.Executor.Tasks.Runtime;

/// <summary>
/// Checks the configured runtime before anything else starts (the lease, reattaching, the intake): an executor
/// that cannot run tasks refuses to start rather than claim tasks it would fail.
/// </summary>
internal sealed class RuntimeProbe(ITaskRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runtime.ProbeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
