using System.CommandLine;
using System.Text.Json.Nodes;
using Platform.Cli.Input;
using Platform.Cli.Output;
using Platform.Cli.Tasks;
using static Platform.Cli.Tasks.TaskCommands;

namespace Platform.Cli.Jobs;

/// <summary>
/// kf's job verbs: <c>create-job</c>, <c>schedule-job</c>, <c>jobs</c>, <c>job-schedules</c>, <c>run-job</c>,
/// <c>suspend-job</c>, <c>resume-job</c>, <c>job-history</c>, <c>delete-job</c>. Unlike kf, a job may have
/// several schedules: <c>schedule-job</c> adds one.
/// </summary>
internal static class JobCommands
{
    public static IEnumerable<Command> All() =>
        [CreateJob(), ScheduleJob(), Jobs(), JobSchedules(), RunJob(), SetState("suspend-job", "suspend", "Stop firing a job's schedules (they are kept)"),
         SetState("resume-job", "resume", "Fire a suspended job's schedules again"), JobHistory(), DeleteJob()];

    private static Argument<string> Job() => new("JOB") { Description = "The job's name" };

    private static Option<string?> TimeZone() => new("--time-zone", "-z") { Description = "IANA time zone of the schedule (default UTC)", HelpName = "ZONE" };

    private static Command CreateJob()
    {
        var app = CliOptions.App();
        var job = Job();
        var command = new Option<string?>("--command", "-c") { Description = "The command its tasks run (default: the app's)" };
        var memory = CliOptions.Size("--memory", "-m", "Memory limit of its tasks (default: the app's)");
        var disk = CliOptions.Size("--disk", "-k", "Disk limit of its tasks (default: the app's)");
        var schedule = CliOptions.Cron("--schedule", "A cron schedule to add at once: 5 fields, or 6 with seconds first");
        var zone = TimeZone();
        var policy = new Option<string?>("--concurrency-policy") { Description = "While a run is unfinished: Always run, Forbid (skip), Replace (cancel it)" };
        policy.AcceptOnlyFromAmong("Always", "Forbid", "Replace");
        return CliCommand.Verb("create-job", "Create a job of an app", async (c, ct) =>
        {
            if (c.Get(schedule) is { } cron) CheckCron(cron, c.Get(zone));
            var created = (await c.Api.PostAsync($"/v3/apps/{Path(c.Get(app))}/jobs", new JsonObject
            {
                ["name"] = c.Get(job),
                ["command"] = c.Get(command),
                ["memory_in_mb"] = c.Get(memory),
                ["disk_in_mb"] = c.Get(disk),
                ["concurrency_policy"] = c.Get(policy),
            }, ct))!;
            JsonNode? added = null;
            if (c.Get(schedule) is { } expression) added = await AddScheduleAsync(c, c.Get(job), expression, c.Get(zone), ct);
            if (c.Json) c.Terminal.Json(new JsonObject { ["job"] = created.DeepClone(), ["schedule"] = added?.DeepClone() });
            else
            {
                c.Terminal.Line($"Created job {created["name"]} of app {c.Get(app)}");
                if (added is not null) Scheduled(c, added);
            }
            return ExitCodes.Success;
        }, app, job, command, memory, disk, schedule, zone, policy);
    }

    private static Command ScheduleJob()
    {
        var job = Job();
        var cron = new Argument<string>("CRON") { Description = "5 fields (minute hour day month weekday), or 6 with seconds first; quote it" };
        var zone = TimeZone();
        return CliCommand.Verb("schedule-job", "Add a cron schedule to a job", async (c, ct) =>
        {
            CheckCron(c.Get(cron), c.Get(zone));
            var added = await AddScheduleAsync(c, c.Get(job), c.Get(cron), c.Get(zone), ct);
            if (c.Json) c.Terminal.Json(added);
            else Scheduled(c, added);
            return ExitCodes.Success;
        }, job, cron, zone);
    }

    private static void CheckCron(string cron, string? zone)
    {
        if (CronCheck.Error(cron, zone) is { } error) throw new CliFailure(ExitCodes.Usage, error);
    }

    private static async Task<JsonNode> AddScheduleAsync(CliContext c, string job, string cron, string? zone, CancellationToken ct) =>
        (await c.Api.PostAsync($"/v3/jobs/{Path(job)}/schedules", new JsonObject { ["cron"] = cron, ["time_zone"] = zone }, ct))!;

    private static void Scheduled(CliContext c, JsonNode schedule) =>
        c.Terminal.Line($"Scheduled '{schedule["cron"]}' ({schedule["time_zone"]}); next run {Formats.Time(schedule["next_occurrence_at"]?.GetValue<DateTimeOffset>())}");

    private static Command Jobs()
    {
        var app = new Argument<string?>("APP") { Description = "Only this app's jobs", Arity = ArgumentArity.ZeroOrOne };
        return CliCommand.Verb("jobs", "List jobs", async (c, ct) =>
        {
            var path = c.Get(app) is { } name ? $"/v3/apps/{Path(name)}/jobs?per_page=500" : "/v3/jobs?per_page=500";
            var jobs = await c.Api.GetAllAsync(path, ct);
            if (c.Json)
            {
                c.Terminal.Json(jobs);
                return ExitCodes.Success;
            }
            var table = new Table("name", "app", "state", "concurrency", "command");
            foreach (var job in jobs)
                table.Add(job!["name"]?.ToString(), job["relationships"]?["app"]?["data"]?["name"]?.ToString(), job["state"]?.ToString(),
                    job["concurrency_policy"]?.ToString(), job["command"]?.ToString() ?? "(the app's)");
            table.WriteTo(c.Terminal);
            return ExitCodes.Success;
        }, app);
    }

    private static Command JobSchedules()
    {
        var job = Job();
        return CliCommand.Verb("job-schedules", "List a job's schedules with their next run", async (c, ct) =>
        {
            var schedules = (await c.Api.GetAsync($"/v3/jobs/{Path(c.Get(job))}/schedules", ct))?["resources"]?.AsArray() ?? [];
            if (c.Json)
            {
                c.Terminal.Json(schedules);
                return ExitCodes.Success;
            }
            var table = new Table("guid", "cron", "time zone", "next run");
            foreach (var s in schedules)
                table.Add(s!["guid"]?.ToString(), s["cron"]?.ToString(), s["time_zone"]?.ToString(), Formats.Time(s["next_occurrence_at"]?.GetValue<DateTimeOffset>()));
            table.WriteTo(c.Terminal);
            return ExitCodes.Success;
        }, job);
    }

    private static Command RunJob()
    {
        var job = Job();
        var wait = new Option<bool>("--wait", "-w") { Description = "Show the task's log live and exit with its outcome" };
        var timeout = CliOptions.Duration("--timeout", "With --wait: stop waiting after this long (exit 3; the task keeps running)");
        return CliCommand.Verb("run-job", "Run a job now", async (c, ct) =>
        {
            var task = (await c.Api.PostAsync($"/v3/jobs/{Path(c.Get(job))}/actions/run", null, ct))!;
            if (!c.Get(wait))
            {
                if (c.Json) c.Terminal.Json(task);
                else Submitted(c.Terminal, task);
                return ExitCodes.Success;
            }
            if (!c.Json) Submitted(c.Terminal, task);
            var app = task["relationships"]?["app"]?["data"]?["name"]?.GetValue<string>() ?? "";
            return await TaskWaiting.WaitAsync(c, app, task, c.Get(timeout), ct);
        }, job, wait, timeout);
    }

    private static Command SetState(string verb, string action, string description)
    {
        var job = Job();
        return CliCommand.Verb(verb, description, async (c, ct) =>
        {
            var changed = (await c.Api.PostAsync($"/v3/jobs/{Path(c.Get(job))}/actions/{action}", null, ct))!;
            if (c.Json) c.Terminal.Json(changed);
            else c.Terminal.Line($"Job {changed["name"]} is {changed["state"]}");
            return ExitCodes.Success;
        }, job);
    }

    /// <summary>
    /// What became of each occurrence (fired with its task, skipped, missed and why), with the runs started
    /// by hand among them, newest first.
    /// </summary>
    private static Command JobHistory()
    {
        var job = Job();
        return CliCommand.Verb("job-history", "A job's occurrences (fired, skipped, missed and why) and runs", async (c, ct) =>
        {
            var name = Path(c.Get(job));
            var occurrences = await c.Api.GetAllAsync($"/v3/jobs/{name}/occurrences?per_page=500", ct);
            var tasks = await c.Api.GetAllAsync($"/v3/jobs/{name}/tasks?per_page=500", ct);
            if (c.Json)
            {
                c.Terminal.Json(new JsonObject { ["occurrences"] = occurrences, ["tasks"] = tasks });
                return ExitCodes.Success;
            }
            var byGuid = tasks.ToDictionary(t => t!["guid"]!.ToString());
            var rows = occurrences.Select(o =>
            {
                var task = o!["task_guid"] is { } guid && byGuid.TryGetValue(guid.ToString(), out var found) ? found : null;
                return (At: o["occurrence_at"]!.GetValue<DateTimeOffset>(), Outcome: o["outcome"]!.ToString(), Task: task, Reason: o["reason"]?.ToString());
            }).Concat(tasks
                .Where(t => t!["job"]?["occurrence_at"] is null)
                .Select(t => (At: t!["created_at"]!.GetValue<DateTimeOffset>(), Outcome: "RUN", Task: (JsonNode?)t, Reason: (string?)"run by hand")));
            var table = new Table("time", "outcome", "task", "state", "reason");
            foreach (var row in rows.OrderByDescending(r => r.At))
                table.Add(Formats.Time(row.At), row.Outcome, row.Task?["sequence_id"]?.ToString(), row.Task?["state"]?.ToString(),
                    row.Reason ?? row.Task?["result"]?["failure_reason"]?.ToString());
            table.WriteTo(c.Terminal);
            return ExitCodes.Success;
        }, job);
    }

    private static Command DeleteJob()
    {
        var job = Job();
        return CliCommand.Verb("delete-job", "Delete a job: ends its running tasks, deletes them with their logs", async (c, ct) =>
        {
            await c.Api.DeleteAsync($"/v3/jobs/{Path(c.Get(job))}", ct);
            if (c.Json) c.Terminal.Json(new JsonObject { ["deleted"] = c.Get(job) });
            else c.Terminal.Line($"Deleted job {c.Get(job)}");
            return ExitCodes.Success;
        }, job);
    }
}
