using System.CommandLine;
using System.Text.Json.Nodes;
using Platform.Cli.Tasks;

namespace Platform.Cli.Logs;

/// <summary>
/// <c>logs APP --recent</c> (the app's newest lines across its tasks), <c>logs APP</c> (new lines as they
/// come, until Ctrl-C), <c>logs APP --task ID [--follow]</c> (one task's lines, live with --follow).
/// </summary>
internal static class LogCommands
{
    // How often `logs APP` asks for the app's newest lines; a task's own lines stream (see TaskFollower).
    private static readonly TimeSpan AppPoll = TimeSpan.FromSeconds(1);

    public static Command Logs()
    {
        var app = CliOptions.App();
        var recent = new Option<bool>("--recent") { Description = "Print the app's newest lines and exit" };
        var task = new Option<long?>("--task", "-t") { Description = "Only this task's lines (its sequence id)", HelpName = "ID" };
        var follow = new Option<bool>("--follow", "-f") { Description = "With --task: keep printing lines until the task ends" };
        return CliCommand.Verb("logs", "Print an app's or a task's log lines", async (c, ct) =>
        {
            if (c.Get(task) is { } id)
            {
                if (c.Get(recent)) throw new CliFailure(ExitCodes.Usage, "--recent and --task do not go together.");
                return await TaskLogsAsync(c, c.Get(app), id, c.Get(follow), ct);
            }
            if (c.Get(follow)) throw new CliFailure(ExitCodes.Usage, "--follow needs --task ID; without it, 'platform logs APP' streams the app's lines.");
            return c.Get(recent) ? await RecentAsync(c, c.Get(app), ct) : await StreamAppAsync(c, c.Get(app), ct);
        }, app, recent, task, follow);
    }

    private static async Task<int> TaskLogsAsync(CliContext c, string app, long id, bool follow, CancellationToken ct)
    {
        var task = await TaskLookup.FindAsync(c.Api, app, id, ct);
        var guid = TaskLookup.Guid(task);
        var name = task["name"]!.GetValue<string>();
        if (follow)
        {
            // JSON lines while following, so that a script can read each line as it comes.
            await TaskFollower.FollowAsync(c.Api, guid, line =>
            {
                if (c.Json) c.Terminal.JsonLine(line);
                else c.Terminal.Line(LogLine.Format(line, name, c.Terminal));
            }, ct);
            return ExitCodes.Success;
        }
        var lines = new JsonArray();
        string? next = $"/v3/tasks/{guid}/logs?limit=10000";
        while (next is not null)
        {
            var page = await c.Api.GetAsync(next, ct);
            foreach (var line in page?["resources"]?.AsArray() ?? [])
            {
                if (c.Json) lines.Add(line!.DeepClone());
                else c.Terminal.Line(LogLine.Format(line!, name, c.Terminal));
            }
            next = page?["next"]?["href"]?.GetValue<string>();
        }
        if (c.Json) c.Terminal.Json(lines);
        return ExitCodes.Success;
    }

    private static async Task<int> RecentAsync(CliContext c, string app, CancellationToken ct)
    {
        var lines = await ReadRecentAsync(c, app, ct);
        if (c.Json) c.Terminal.Json(lines);
        else foreach (var line in lines) c.Terminal.Line(LogLine.Format(line!, line!["task_name"]!.GetValue<string>(), c.Terminal));
        return ExitCodes.Success;
    }

    /// <summary>As <c>cf logs APP</c>: lines printed from now on, until Ctrl-C (exit 130, as any interrupted verb).</summary>
    private static async Task<int> StreamAppAsync(CliContext c, string app, CancellationToken ct)
    {
        // The lines of the last answer: the next answer's window overlaps it, and an older line never comes back.
        var seen = Keys(await ReadRecentAsync(c, app, ct));
        while (true)
        {
            await Task.Delay(AppPoll, ct);
            var lines = await ReadRecentAsync(c, app, ct);
            foreach (var line in lines.Where(l => !seen.Contains(Key(l!))))
            {
                if (c.Json) c.Terminal.JsonLine(line);
                else c.Terminal.Line(LogLine.Format(line!, line!["task_name"]!.GetValue<string>(), c.Terminal));
            }
            seen = Keys(lines);
        }
    }

    private static async Task<JsonArray> ReadRecentAsync(CliContext c, string app, CancellationToken ct) =>
        (await c.Api.GetAsync($"/v3/apps/{TaskCommands.Path(app)}/logs?recent=true&limit=1000", ct))?["resources"]?.AsArray() ?? [];

    private static HashSet<string> Keys(JsonArray lines) => lines.Select(l => Key(l!)).ToHashSet();

    private static string Key(JsonNode line) => $"{line["task_guid"]}/{line["sequence"]}";
}
