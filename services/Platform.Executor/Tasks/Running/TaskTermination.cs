namespace Platform.Executor.Tasks.Running;

/// <summary>
/// A request to end a running task: why, and how long its processes get between SIGTERM and SIGKILL. The
/// first request wins; a later one (a timeout after a cancel) does not change the recorded reason.
/// </summary>
internal sealed class TaskTermination(TimeSpan gracePeriod) : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private string? _reason;

    public CancellationToken Requested => _requested.Token;
    public string? Reason => Volatile.Read(ref _reason);
    public TimeSpan GracePeriod { get; private set; } = gracePeriod;

    public void Request(string reason, TimeSpan? gracePeriod = null)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is null && gracePeriod is { } grace) GracePeriod = grace;
        try
        {
            _requested.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Requests termination with <paramref name="reason"/> once <paramref name="timeout"/> has passed.</summary>
    public void RequestAfter(TimeSpan timeout, string reason, TimeProvider clock) =>
        clock.CreateTimer(_ => Request(reason), null, timeout, Timeout.InfiniteTimeSpan);

    public void Dispose() => _requested.Dispose();
}
