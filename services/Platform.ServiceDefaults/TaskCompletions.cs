using System.Diagnostics.Metrics;

namespace Platform.ServiceDefaults;

/// <summary>
/// <c>platform.tasks.completed</c>, by <c>app.name</c> and <c>task.outcome</c>. Two services record it: the
/// executors for the tasks they ran, the Api for the tasks cancelled before any executor took them; one
/// definition keeps the two series one metric on a dashboard.
/// </summary>
public sealed class TaskCompletions(Meter meter)
{
    private readonly Counter<long> _completed = meter.CreateCounter<long>(
        "platform.tasks.completed", "{task}", "Tasks that ended, by task.outcome (succeeded, failed, cancelled).");

    public void Add(string app, string outcome) =>
        _completed.Add(1, new(TelemetryTags.AppName, app), new(TelemetryTags.TaskOutcome, outcome));
}
