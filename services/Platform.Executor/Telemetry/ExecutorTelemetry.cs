using System.Diagnostics;
using System.Diagnostics.Metrics;
using Platform.Contracts;
using Platform.Executor.Tasks.Running;
using Platform.ServiceDefaults;

namespace Platform.Executor.Telemetry;

/// <summary>
/// What the executor reports about the tasks it runs: the claim and run spans, and the counters and
/// histograms an operator alerts on. Span and metric names are listed in ARCHITECTURE.md (Telemetry).
/// </summary>
internal sealed class ExecutorTelemetry
{
    private static readonly ActivitySource Source = new(ServiceDefaultsRegistration.TelemetryName);

    private readonly Counter<long> _started;
    private readonly TaskCompletions _completed;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _running;
    private readonly Counter<long> _sandboxResources;

    /// <summary>Values of <c>platform.sandbox.resource</c>.</summary>
    public const string Cgroup = "cgroup", NetworkNamespace = "network_namespace", SandboxProcess = "sandbox";

    /// <summary>Values of <c>platform.sandbox.resource.origin</c>: served a task before, made ahead of demand, or made for this task.</summary>
    public const string Reused = "reused", Prepared = "prepared", New = "new";

    public ExecutorTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(ServiceDefaultsRegistration.TelemetryName);
        _started = meter.CreateCounter<long>("platform.tasks.started", "{task}", "Tasks an executor claimed and started.");
        _completed = new TaskCompletions(meter);
        _queueWait = meter.CreateHistogram("platform.task.queue_wait", "s", "Time from a task's acceptance to its start.", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
        });
        // Tasks run from a second to hours; the SDK's default buckets (0 to 10000, made for milliseconds) would not tell them apart.
        _duration = meter.CreateHistogram("platform.task.duration", "s", "Time from a task's start to its end.", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400],
        });
        _running = meter.CreateUpDownCounter<long>("platform.tasks.running", "{task}", "Tasks running on this executor now.");
        _sandboxResources = meter.CreateCounter<long>("platform.sandbox.resources", "{resource}",
            "Network namespaces and cgroups given to sandboxed tasks, by where they came from: a task's start costs least with a reused one.");
    }

    /// <summary>The claim of one RunTask: a child of MassTransit's consume span.</summary>
    public static Activity? StartClaim(RunTask message, Guid taskId)
    {
        var activity = Source.StartActivity("task claim");
        activity?.SetTag(TelemetryTags.TaskId, taskId.ToString());
        activity?.SetTag(TelemetryTags.AppName, message.App);
        if (message.Name is { } name) activity?.SetTag(TelemetryTags.TaskName, name);
        return activity;
    }

    /// <summary>
    /// The run of a claimed task, from its process's start to the publish of its end. It runs after the
    /// consumer has returned, so its parent (the consume span) is passed explicitly rather than left to
    /// whatever <see cref="Activity.Current"/> happens to be on the background thread.
    /// </summary>
    public static Activity? StartRun(ClaimedTask task, ActivityContext parent)
    {
        var activity = Source.StartActivity("task run", ActivityKind.Internal, parent);
        if (activity is null) return null;
        activity.SetTag(TelemetryTags.TaskId, task.TaskId.ToString());
        activity.SetTag(TelemetryTags.TaskName, task.Name);
        activity.SetTag(TelemetryTags.AppName, task.App);
        // The command line, never the environment: that is where an app's secrets are.
        activity.SetTag("process.executable.name", "sh");
        activity.SetTag("process.command_line", task.Command);
        return activity;
    }

    public static void ProcessEnded(Activity? run, ProcessOutcome outcome)
    {
        if (run is null) return;
        if (outcome.ExitCode is { } code) run.SetTag("process.exit.code", code);
        if (!outcome.Succeeded) run.SetStatus(ActivityStatusCode.Error, outcome.FailureReason);
    }

    public void Started(ClaimedTask task)
    {
        var app = new KeyValuePair<string, object?>(TelemetryTags.AppName, task.App);
        _started.Add(1, app);
        _running.Add(1, app);
        _queueWait.Record(Math.Max(0, (task.ClaimedAt - task.AcceptedAt).TotalSeconds), app);
    }

    public void Completed(ClaimedTask task, ProcessOutcome outcome, bool cancelled, DateTimeOffset endedAt)
    {
        var app = new KeyValuePair<string, object?>(TelemetryTags.AppName, task.App);
        var result = cancelled ? TelemetryTags.Cancelled : outcome.Succeeded ? TelemetryTags.Succeeded : TelemetryTags.Failed;
        _running.Add(-1, app);
        _completed.Add(task.App, result);
        _duration.Record(Math.Max(0, (endedAt - task.ClaimedAt).TotalSeconds), app, new KeyValuePair<string, object?>(TelemetryTags.TaskOutcome, result));
    }

    public void SandboxResourceTaken(string resource, string origin) =>
        _sandboxResources.Add(1, new KeyValuePair<string, object?>("platform.sandbox.resource", resource), new KeyValuePair<string, object?>("platform.sandbox.resource.origin", origin));
}
