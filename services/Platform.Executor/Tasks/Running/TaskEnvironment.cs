using System.Diagnostics;

namespace Platform.Executor.Tasks.Running;

/// <summary>The environment a task's process sees: a minimal base, the app's and the task's variables, and the task's identity.</summary>
internal static class TaskEnvironment
{
    public static Dictionary<string, string> For(ClaimedTask task, string scratch)
    {
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = scratch,
            ["TMPDIR"] = Path.Combine(scratch, "tmp"),
            ["LANG"] = "C.UTF-8",
        };
        foreach (var (name, value) in task.Environment) environment[name] = value;
        environment["PLATFORM_TASK_ID"] = task.TaskId.ToString();
        environment["PLATFORM_TASK_NAME"] = task.Name;
        environment["PLATFORM_TASK_SEQUENCE_ID"] = task.SequenceId.ToString();
        environment["PLATFORM_APP_NAME"] = task.App;
        environment["MEMORY_LIMIT"] = $"{task.MemoryInMb}m";
        // W3C trace context, so that a task that is itself instrumented joins the trace that started it.
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity) environment["TRACEPARENT"] = activity.Id!;
        return environment;
    }
}
