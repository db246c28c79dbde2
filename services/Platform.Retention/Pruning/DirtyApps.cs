using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Platform.Retention.Pruning;

/// <summary>
/// Apps waiting to be pruned, each at most once: a burst of a thousand completions of one app marks it
/// once, and it is pruned once (again only if a completion arrives while that prune runs). Lost on a
/// restart, which the periodic sweep makes good.
/// </summary>
public sealed class DirtyApps
{
    private readonly ConcurrentDictionary<string, PruneReason> _waiting = new();
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public void Mark(string app, PruneReason reason)
    {
        if (_waiting.TryAdd(app, reason)) _queue.Writer.TryWrite(app);
    }

    /// <summary>Marks the app again after <paramref name="delay"/>: for an app another replica is pruning now.</summary>
    public void MarkLater(string app, PruneReason reason, TimeSpan delay, CancellationToken stopping) =>
        _ = Task.Delay(delay, stopping).ContinueWith(_ => Mark(app, reason), stopping, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    /// <summary>The next app to prune and why it was first marked; waits until there is one.</summary>
    public async ValueTask<(string App, PruneReason Reason)> NextAsync(CancellationToken ct)
    {
        while (true)
        {
            var app = await _queue.Reader.ReadAsync(ct);
            // Removed before the prune starts, so a completion during the prune marks the app again.
            if (_waiting.TryRemove(app, out var reason)) return (app, reason);
        }
    }
}
