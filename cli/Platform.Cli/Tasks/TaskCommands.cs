using System.CommandLine;
using System.Text.Json.Nodes;
using Platform.Cli.Output;

namespace Platform.Cli.Tasks;

/// <summary>cf's task verbs: <c>run-task</c>, <c>tasks</c>, <c>task</c>, <c>terminate-task</c>, and <c>events</c> (a task's history).</summary>
internal static class TaskCommands
{
    public static IEnumerable<Command> All() => [RunTask(), Tasks(), Task(), TerminateTask(), Events()];

    private static Command RunTask()
    {
        var app = CliOptions.App();
        var command = new Option<string?>("--command", "-c") { Description = "The command to run (default: the app's)" };
        var name = new Option<string?>("--name") { Description = "The task's name (default: generated)" };
        var memory = CliOptions.Size("--memory", "-m", "Memory limit");
        var disk = CliOptions.Size("--disk", "-k", "Disk limit");
        var env = CliOptions.KeyValues("--env", "An environment variable for this task only (repeatable)");
        var taskTimeout = CliOptions.Duration("--task-timeout", "End the task (FAILED) if it runs longer than this");
        var wait = new Option<bool>("--wait", "-w") { Description = "Show the task's log live and exit with its outcome" };
        var timeout = CliOptions.Duration("--timeout", "With --wait: stop waiting after this long (exit 3; the task keeps running)");
        return CliCommand.Verb("run-task", "Run a one-off task of an app", async (c, ct) =>
        {
            var body = new JsonObject
            {
                ["command"] = c.Get(command),
                ["name"] = c.Get(name),
                ["memory_in_mb"] = c.Get(memory),
                ["disk_in_mb"] = c.Get(disk),
                ["timeout_seconds"] = c.Get(taskTimeout) is { } limit ? (int)Math.Ceiling(limit.TotalSeconds) : null,
            };
            if (c.Get(env) is { Count: > 0 } variables) body["env"] = new JsonObject(variables.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value)));
            var task = (await c.Api.PostAsync($"/v3/apps/{Path(c.Get(app))}/tasks", body, ct))!;
            if (!c.Get(wait))
            {
                if (c.Json) c.Terminal.Json(task);
                else Submitted(c.Terminal, task);
                return ExitCodes.Success;
            }
            if (!c.Json) Submitted(c.Terminal, task);
            return await TaskWaiting.WaitAsync(c, c.Get(app), task, c.Get(timeout), ct);
        }, app, command, name, memory, disk, env, taskTimeout, wait, timeout);
    }

    internal static void Submitted(Terminal terminal, JsonNode task)
    {
        terminal.Line($"task name:   {task["name"]}");
        terminal.Line($"task id:     {task["sequence_id"]}");
    }

    private static Command Tasks()
    {
        var app = CliOptions.App();
        return CliCommand.Verb("tasks", "List an app's tasks, newest first", async (c, ct) =>
        {
            var tasks = await c.Api.GetAllAsync($"/v3/apps/{Path(c.Get(app))}/tasks?per_page=500", ct);
            if (c.Json)
            {
                c.Terminal.Json(tasks);
                return ExitCodes.Success;
            }
            var table = new Table("id", "name", "state", "start time", "duration", "command");
            foreach (var task in tasks)
                table.Add(task!["sequence_id"]!.ToString(), task["name"]?.ToString(), task["state"]?.ToString(),
                    Formats.Time(task["created_at"]?.GetValue<DateTimeOffset>()), Duration(task), task["command"]?.ToString());
            table.WriteTo(c.Terminal);
            return ExitCodes.Success;
        }, app);
    }

    private static Command Task()
    {
        var app = CliOptions.App();
        var id = CliOptions.TaskId();
        return CliCommand.Verb("task", "Show one task", async (c, ct) =>
        {
            var task = await TaskLookup.FindAsync(c.Api, c.Get(app), c.Get(id), ct);
            if (c.Json)
            {
                c.Terminal.Json(task);
                return ExitCodes.Success;
            }
            var job = task["job"];
            var fields = new (string, string?)[]
            {
                ("id", task["sequence_id"]?.ToString()), ("name", task["name"]?.ToString()), ("guid", task["guid"]?.ToString()),
                ("state", task["state"]?.ToString()), ("failure reason", task["result"]?["failure_reason"]?.ToString()),
                ("exit code", task["result"]?["exit_code"]?.ToString()),
                ("start time", Formats.Time(task["created_at"]?.GetValue<DateTimeOffset>())), ("duration", Duration(task)),
                ("memory", $"{task["memory_in_mb"]}M"), ("disk", $"{task["disk_in_mb"]}M"),
                ("attempt", $"{task["attempt"]} of {task["max_attempts"]}"), ("job", job?["name"]?.ToString()),
                ("command", task["command"]?.ToString()),
            };
            foreach (var (label, value) in fields.Where(f => !string.IsNullOrEmpty(f.Item2)))
                c.Terminal.Line($"{c.Terminal.Bold((label + ":").PadRight(16))}{value}");
            return ExitCodes.Success;
        }, app, id);
    }

    private static Command TerminateTask()
    {
        var app = CliOptions.App();
        var id = CliOptions.TaskId();
        var wait = new Option<bool>("--wait", "-w") { Description = "Wait until the task has ended" };
        var timeout = CliOptions.Duration("--timeout", "With --wait: stop waiting after this long (exit 3)");
        return CliCommand.Verb("terminate-task", "Cancel a task: SIGTERM, then SIGKILL after its grace period", async (c, ct) =>
        {
            var task = await TaskLookup.FindAsync(c.Api, c.Get(app), c.Get(id), ct);
            var guid = TaskLookup.Guid(task);
            var cancelling = (await c.Api.PostAsync($"/v3/tasks/{guid}/actions/cancel", null, ct))!;
            if (!c.Get(wait))
            {
                if (c.Json) c.Terminal.Json(cancelling);
                else c.Terminal.Line($"Terminating task {c.Get(id)} of app {c.Get(app)}: {cancelling["state"]}");
                return ExitCodes.Success;
            }
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (c.Get(timeout) is { } duration) limit.CancelAfter(duration);
            try
            {
                while (true)
                {
                    var now = (await c.Api.GetAsync($"/v3/tasks/{guid}", limit.Token))!;
                    if (now["state"]?.GetValue<string>() is "SUCCEEDED" or "FAILED")
                    {
                        if (c.Json) c.Terminal.Json(now);
                        else c.Terminal.Line($"Task {c.Get(id)} ended {now["state"]}: {now["result"]?["failure_reason"]}");
                        return ExitCodes.Success;
                    }
                    c.Terminal.Status($"task {c.Get(id)} {now["state"]}");
                    await System.Threading.Tasks.Task.Delay(250, limit.Token);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new CliFailure(ExitCodes.WaitTimedOut, $"task {c.Get(id)} has not ended yet (platform task {c.Get(app)} {c.Get(id)}).");
            }
        }, app, id, wait, timeout);
    }

    private static Command Events()
    {
        var app = CliOptions.App();
        var id = CliOptions.TaskId();
        return CliCommand.Verb("events", "A task's history: every step, in order", async (c, ct) =>
        {
            var task = await TaskLookup.FindAsync(c.Api, c.Get(app), c.Get(id), ct);
            var events = (await c.Api.GetAsync($"/v3/tasks/{TaskLookup.Guid(task)}/events", ct))?["resources"]?.AsArray() ?? [];
            if (c.Json)
            {
                c.Terminal.Json(events);
                return ExitCodes.Success;
            }
            var table = new Table("version", "time", "event", "details");
            foreach (var e in events)
                table.Add(e!["version"]?.ToString(), Formats.Time(e["timestamp"]?.GetValue<DateTimeOffset>()), e["type"]?.ToString(), Details(e["data"]));
            table.WriteTo(c.Terminal);
            return ExitCodes.Success;
        }, app, id);
    }

    /// <summary>What an event says beyond its type, in a few words: who or what did it and why.</summary>
    private static string Details(JsonNode? data)
    {
        if (data is not JsonObject fields) return "";
        string[] wanted = ["by", "actor", "executor", "reason", "failure_reason", "exit_code", "attempt"];
        return string.Join(", ", fields
            .Where(f => wanted.Contains(f.Key, StringComparer.OrdinalIgnoreCase) && f.Value is JsonValue)
            .Select(f => $"{f.Key}={f.Value}"));
    }

    /// <summary>From acceptance to the end, or to now for a task that has not ended (the API has no separate start time).</summary>
    internal static string Duration(JsonNode task)
    {
        if (task["created_at"]?.GetValue<DateTimeOffset>() is not { } created) return "";
        var ended = task["state"]?.GetValue<string>() is "SUCCEEDED" or "FAILED";
        var end = ended ? task["updated_at"]!.GetValue<DateTimeOffset>() : DateTimeOffset.UtcNow;
        return Formats.Duration(end - created);
    }

    internal static string Path(string segment) => Uri.EscapeDataString(segment);
}
