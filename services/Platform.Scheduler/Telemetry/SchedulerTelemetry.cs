using System.Diagnostics;
using System.Diagnostics.Metrics;
using Platform.ServiceDefaults;

namespace Platform.Scheduler.Telemetry;

/// <summary>What the Scheduler reports: each firing's trace, and how late each occurrence's RunTask went out.</summary>
internal sealed class SchedulerTelemetry(IMeterFactory meters)
{
    private static readonly ActivitySource Source = new(ServiceDefaultsRegistration.TelemetryName);

    private readonly Histogram<double> _lateness = meters.Create(ServiceDefaultsRegistration.TelemetryName)
        .CreateHistogram<double>("platform.scheduler.firing_lateness", "s", "From an occurrence's time to its RunTask being published.");

    /// <summary>
    /// A scheduled occurrence is the origin of its task: nothing but the clock caused it, so it starts a
    /// trace of its own (the "job fire" span), and the task's RunTask, claim and run continue that trace.
    /// </summary>
    public static Activity? StartFiring(string job, string app, Guid scheduleId, DateTimeOffset occurrenceAt)
    {
        Activity.Current = null;
        var activity = Source.StartActivity("job fire");
        activity?.SetTag(TelemetryTags.JobName, job);
        activity?.SetTag(TelemetryTags.AppName, app);
        activity?.SetTag(TelemetryTags.JobScheduleId, scheduleId.ToString());
        activity?.SetTag(TelemetryTags.JobOccurrenceAt, occurrenceAt.ToString("O"));
        return activity;
    }

    /// <summary>
    /// The RunTask of an occurrence fired ahead of its time goes out at that time, after the "job fire" span
    /// has ended: it is published under a child of that span, so that the task still continues the firing's trace.
    /// </summary>
    public static Activity? StartPublishing(ActivityContext firing, Guid taskId)
    {
        Activity.Current = null;
        var activity = Source.StartActivity("job publish", ActivityKind.Internal, firing);
        activity?.SetTag(TelemetryTags.TaskId, taskId.ToString());
        return activity;
    }

    public void Fired(string job, TimeSpan lateness) =>
        _lateness.Record(lateness.TotalSeconds, new KeyValuePair<string, object?>(TelemetryTags.JobName, job));
}
