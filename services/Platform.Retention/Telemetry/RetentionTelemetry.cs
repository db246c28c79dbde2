using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Platform.ServiceDefaults;

namespace Platform.Retention.Telemetry;

/// <summary>
/// What Retention reports: the tasks it deleted (<c>platform.retention.tasks_deleted</c>), and the prune
/// span. A prune runs later than the completions that triggered it and deletes tasks of many
/// traces, so it is not a child of any of them: it starts a trace of its own and links to the traces of
/// the completions that marked its app (at most <see cref="MaxLinks"/> per prune), so that a task's trace
/// in a dashboard leads to the deletion it caused.
/// </summary>
public sealed class RetentionTelemetry(IMeterFactory meters)
{
    private const int MaxLinks = 32;
    private static readonly ActivitySource Source = new(ServiceDefaultsRegistration.TelemetryName);

    private readonly Counter<long> _tasksDeleted = meters.Create(ServiceDefaultsRegistration.TelemetryName).CreateCounter<long>(
        "platform.retention.tasks_deleted", unit: "{task}", description: "Tasks deleted by retention, with their streams and logs");

    public void Deleted(string app, int count) => _tasksDeleted.Add(count, new KeyValuePair<string, object?>(TelemetryTags.AppName, app));

    private readonly ConcurrentDictionary<string, ConcurrentQueue<ActivityContext>> _triggers = new();

    /// <summary>Remembers the current trace (a TaskCompleted or TaskTerminated consume) as a trigger of the app's next prune.</summary>
    public void Triggered(string app)
    {
        if (Activity.Current is not { } current) return;
        var triggers = _triggers.GetOrAdd(app, _ => new ConcurrentQueue<ActivityContext>());
        triggers.Enqueue(current.Context);
        while (triggers.Count > MaxLinks) triggers.TryDequeue(out _);
    }

    public Activity? StartPrune(string app, string reason)
    {
        var links = _triggers.TryRemove(app, out var triggers) ? triggers.Select(t => new ActivityLink(t)).ToList() : null;
        // Explicitly a root: whatever Activity.Current is on the worker's thread is no parent of a prune.
        var activity = Source.StartActivity("retention prune", ActivityKind.Internal, new ActivityContext(), links: links);
        activity?.SetTag(TelemetryTags.AppName, app);
        activity?.SetTag("retention.reason", reason);
        return activity;
    }
}
