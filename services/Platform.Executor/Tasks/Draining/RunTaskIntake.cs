using MassTransit;

namespace Platform.Executor.Tasks.Draining;

/// <summary>
/// The executor's intake of <c>RunTask</c>s: its receive endpoint, which a shutdown stops at once while the
/// rest of the bus keeps running (cancels must still reach running tasks and their ends must be announced).
/// Stopping it hands prefetched deliveries back to RabbitMQ for other executors.
/// </summary>
internal sealed class RunTaskIntake(ILogger<RunTaskIntake> logger) : IReceiveEndpointObserver
{
    // Deliveries still waiting for a slot are handed back after this; a claim in progress normally takes milliseconds.
    private static readonly TimeSpan ClaimsInProgressWait = TimeSpan.FromSeconds(3);

    private IReceiveEndpoint? _endpoint;
    private volatile bool _closed;

    public bool Closed => _closed;

    public async Task CloseAsync()
    {
        _closed = true;
        if (Volatile.Read(ref _endpoint) is not { } endpoint) return;
        using var wait = new CancellationTokenSource(ClaimsInProgressWait);
        try
        {
            // When the wait runs out, MassTransit cancels the consumers still running (those waiting for a
            // slot); an OperationCanceledException is not moved to the error queue but NACKed with requeue.
            await endpoint.Stop(wait.Token);
        }
        catch (OperationCanceledException)
        {
        }
        logger.LogInformation("Stopped taking RunTask messages from {Queue}; unacknowledged deliveries went back to the queue", endpoint.InputAddress);
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        Volatile.Write(ref _endpoint, ready.ReceiveEndpoint);
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
}
