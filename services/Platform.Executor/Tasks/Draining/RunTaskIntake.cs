using MassTransit;
using Microsoft.Extensions.Options;

namespace Platform.Executor.Tasks.Draining;

/// <summary>
/// The executor's intake of <c>RunTask</c>s: its slots (at most <see cref="ExecutorOptions.MaxConcurrentTasks"/>
/// claimed and running at once) and its receive endpoint, which a shutdown closes at once while the rest of
/// the bus keeps running (cancels must still reach running tasks, and their ends must be announced).
/// A delivery waits for a slot in this filter, in front of the consumer, so that closing can hand it back:
/// an <see cref="OperationCanceledException"/> thrown here is neither retried nor moved to the error queue
/// by MassTransit but NACKed with requeue, and goes to another executor.
/// </summary>
internal sealed class RunTaskIntake(IOptions<ExecutorOptions> options, ILogger<RunTaskIntake> logger)
    : IReceiveEndpointObserver, IFilter<ConsumeContext>
{
    // A claim in progress normally takes milliseconds; deliveries waiting for a slot are handed back at once.
    private static readonly TimeSpan ClaimsInProgressWait = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentTasks);
    private readonly CancellationTokenSource _closed = new();
    private IReceiveEndpoint? _endpoint;

    public bool Closed => _closed.IsCancellationRequested;

    /// <summary>Frees the slot a delivery took: its claim failed or was dropped, or its task has ended.</summary>
    public void Release() => _slots.Release();

    /// <summary>
    /// Takes a slot for a task reattached after a restart, when one is free (survivors are not refused: they
    /// run already); false when none was taken, and then none is to be released.
    /// </summary>
    public bool TryHold() => _slots.Wait(0);

    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _closed.Token);
        await _slots.WaitAsync(wait.Token);
        if (Closed)
        {
            _slots.Release();
            throw new OperationCanceledException("The executor is shutting down; the delivery goes back to the queue.", _closed.Token);
        }
        await next.Send(context);
    }

    /// <summary>Stops taking RunTasks: deliveries waiting for a slot go back to the queue, then the endpoint stops consuming.</summary>
    public async Task CloseAsync()
    {
        await _closed.CancelAsync();
        if (Volatile.Read(ref _endpoint) is not { } endpoint) return;
        using var wait = new CancellationTokenSource(ClaimsInProgressWait);
        try
        {
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

    public void Probe(ProbeContext context) => context.CreateFilterScope("runTaskIntake");
}
