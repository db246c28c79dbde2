namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>Wakes the scheduling loop early to reload jobs and schedules; several requests before it wakes count as one.</summary>
internal sealed class ReloadSignal
{
    private readonly SemaphoreSlim _requested = new(0, 1);

    public void Request()
    {
        try
        {
            _requested.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already requested and not yet taken: one reload covers both.
        }
    }

    /// <returns>True when a reload was requested, false when the timeout passed first.</returns>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _requested.WaitAsync(timeout, ct);

    public bool TryTake() => _requested.Wait(0);
}
