using System.Collections.Concurrent;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// Sandboxes started ahead of demand (<see cref="SandboxOptions.PreparedSandboxes"/>), each waiting on stdin
/// for one task: a sandbox's start (the launcher's namespaces and mounts) then
/// happens off the task's dispatch path. Each serves one task and ends with it; none is ever reused. All of
/// them have the disk size of the last task that asked (the size of a tmpfs is fixed when it is mounted):
/// ones of another size are given up as the next are made.
/// </summary>
internal sealed class ReadySandboxes(int most, Func<int, CancellationToken, Task<SandboxedProcess>> startAhead, ILogger logger) : IDisposable
{
    private readonly ConcurrentQueue<SandboxedProcess> _ready = new();
    private readonly SemaphoreSlim _filling = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private volatile int _diskInMb = -1;

    /// <summary>A ready sandbox of this disk size, or null; either way the pool is topped up for that size in the background.</summary>
    public SandboxedProcess? TryTake(int diskInMb)
    {
        if (most == 0) return null;
        _diskInMb = diskInMb;
        SandboxedProcess? taken = null;
        while (taken is null && _ready.TryDequeue(out var ready))
        {
            if (ready.DiskInMb == diskInMb && ready.Usable) taken = ready;
            else ready.Dispose();
        }
        _ = RefillAsync();
        return taken;
    }

    /// <summary>
    /// How long a take waits before the pool is topped up. The new sandbox's start (the executor's process start, the
    /// launcher's namespaces and mounts) would otherwise run on the other core just as the taken
    /// sandbox starts its task: in the benchmark's sandboxed dispatch at 20/s that race was the tail (p99 135
    /// and 179 ms at once, 27 and 25 ms after 30 ms; docs/benchmarks.md). Long enough for a task's shell to be
    /// running, short enough that at 20 tasks/s per executor the next task still finds one ready.
    /// </summary>
    internal static readonly TimeSpan RefillDelay = TimeSpan.FromMilliseconds(30);

    private async Task RefillAsync()
    {
        try
        {
            await Task.Delay(RefillDelay, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await FillAsync();
    }

    private async Task FillAsync()
    {
        if (!await _filling.WaitAsync(0)) return; // one filler at a time: sandboxes are started one after another
        var failed = false;
        try
        {
            while (!_stopping.IsCancellationRequested && _ready.Count < most)
            {
                _ready.Enqueue(await startAhead(_diskInMb, _stopping.Token));
                if (_stopping.IsCancellationRequested) GiveUpAll();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failed = true;
            // Tasks still start, each with a sandbox of its own making, which will say what is wrong.
            logger.LogWarning(ex, "A sandbox could not be started ahead of demand");
        }
        finally
        {
            _filling.Release();
        }
        // A take between the last count and the release found the filler busy: top up for it.
        if (!failed && _ready.Count < most && !_stopping.IsCancellationRequested) _ = Task.Run(FillAsync);
    }

    private void GiveUpAll()
    {
        while (_ready.TryDequeue(out var ready)) ready.Dispose();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        GiveUpAll();
    }
}
