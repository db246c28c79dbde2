using System.Diagnostics;
using System.Diagnostics.Metrics;
using Platform.ServiceDefaults;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Telemetry;

/// <summary>
/// What the Api reports about tasks: the accept request's span attributes and the tasks it creates. The
/// pending tasks it cancels are counted by the one cancel path (<c>Platform.Cancelling.TaskCancellation</c>).
/// </summary>
internal sealed class ApiTelemetry
{
    private readonly Counter<long> _created;

    public ApiTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(ServiceDefaultsRegistration.TelemetryName);
        _created = meter.CreateCounter<long>("platform.tasks.created", "{task}", "Tasks accepted through the Api.");
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
}
