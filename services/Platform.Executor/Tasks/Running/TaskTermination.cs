namespace Platform.Executor.Tasks.Running;

/// <summary>
/// A request to end a running task: why, and how long its processes get between SIGTERM and SIGKILL. The
/// first request wins; a later one (a timeout after a cancel) does not change the recorded reason.
/// </summary>
internal sealed class TaskTermination(TimeSpan gracePeriod) : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private string? _reason;
    private ITimer? _timeout;

    public CancellationToken Requested => _requested.Token;
    public string? Reason => Volatile.Read(ref _reason);
    public TimeSpan GracePeriod { get; private set; } = gracePeriod;

    /// <summary>Whether the request that won came from a user's cancel (a TerminateTask), not a timeout or a shutdown.</summary>
    public bool Cancelled { get; private set; }

    /// <summary>Whether the request that won came from the executor's own shutdown: the task may be requeued.</summary>
    public bool ShutDown { get; private set; }

    public void Cancel(string reason, TimeSpan? gracePeriod) => Request(reason, gracePeriod, cancelled: true);

    public void Request(string reason, TimeSpan? gracePeriod = null) => Request(reason, gracePeriod, cancelled: false);

    /// <summary>Ends the task because the executor shuts down, with the task's own grace period.</summary>
    public void RequestShutdown(string reason) => Request(reason, null, cancelled: false, shutDown: true);

    private void Request(string reason, TimeSpan? gracePeriod, bool cancelled, bool shutDown = false)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is null)
        {
            Cancelled = cancelled;
            ShutDown = shutDown;
            if (gracePeriod is { } grace) GracePeriod = grace;
        }
        try
        {
            _requested.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Requests termination with <paramref name="reason"/> once <paramref name="timeout"/> has passed.</summary>
    /// The timer is held (and disposed with this), so that it is not collected before it fires.
    public void RequestAfter(TimeSpan timeout, string reason, TimeProvider clock) =>
        _timeout = clock.CreateTimer(_ => Request(reason), null, timeout, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _timeout?.Dispose();
        _requested.Dispose();
    }
}
