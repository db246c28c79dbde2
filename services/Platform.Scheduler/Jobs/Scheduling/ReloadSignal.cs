namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>
/// Wakes the scheduling loop early to reload, and says what: the jobs named in change notifications, or
/// everything (at start-up, after the listener lost its connection). Several requests before the loop wakes
/// count as one wake-up, and their jobs add up.
/// </summary>
internal sealed class ReloadSignal
{
    private readonly SemaphoreSlim _requested = new(0, 1);
    private readonly Lock _gate = new();
    private HashSet<string> _jobs = new(StringComparer.Ordinal);
    private bool _everything;

    /// <summary>Everything is to be reloaded: changes may have been missed.</summary>
    public void Request()
    {
        lock (_gate) _everything = true;
        Wake();
    }

    /// <summary><paramref name="job"/> changed (made, changed, paused, resumed, deleted, or one of its schedules).</summary>
    public void Request(string job)
    {
        lock (_gate) _jobs.Add(job);
        Wake();
    }

    /// <summary>Wakes the loop without asking for a reload (a full reload read in the background is ready).</summary>
    public void Nudge() => Wake();

    private void Wake()
    {
        try
        {
            _requested.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already requested and not yet taken: one wake-up covers both.
        }
    }

    /// <returns>True when a reload was requested, false when the timeout passed first.</returns>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _requested.WaitAsync(timeout, ct);

    public bool TryTake() => _requested.Wait(0);

    /// <summary>What was requested since the last call, and forgets it. A request made after this is seen by the next wake-up.</summary>
    public ReloadRequest TakeRequest()
    {
        lock (_gate)
        {
            var request = new ReloadRequest(_everything, _jobs);
            _everything = false;
            _jobs = new HashSet<string>(StringComparer.Ordinal);
            return request;
        }
    }
}

/// <summary>What a wake-up of the scheduling loop reloads: everything, or the named jobs (none: nothing).</summary>
internal sealed record ReloadRequest(bool Everything, IReadOnlySet<string> Jobs);
