using System.Diagnostics;
using System.Diagnostics.Metrics;
using Platform.ServiceDefaults;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Telemetry;

/// <summary>
/// What the Api reports about tasks: the accept request's span attributes, the tasks it creates, and the
/// pending tasks it ends itself on cancel (no executor ever sees those).
/// </summary>
internal sealed class ApiTelemetry
{
    private readonly Counter<long> _created;
    private readonly TaskCompletions _completed;

    public ApiTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(ServiceDefaultsRegistration.TelemetryName);
        _created = meter.CreateCounter<long>("platform.tasks.created", "{task}", "Tasks accepted through the Api.");
        _completed = new TaskCompletions(meter);
    }

    /// <summary>Tags the request's span with the task it accepted, and counts the task.</summary>
    public void Accepted(TaskAccepted task)
    {
        if (Activity.Current is { } request)
        {
            request.SetTag(TelemetryTags.TaskId, task.TaskId.ToString());
            request.SetTag(TelemetryTags.TaskName, task.Name);
            request.SetTag(TelemetryTags.AppName, task.App);
        }
        _created.Add(1, new KeyValuePair<string, object?>(TelemetryTags.AppName, task.App));
    }

    public void CancelledBeforeStart(AppTask task) => _completed.Add(task.App, TelemetryTags.Cancelled);
}
