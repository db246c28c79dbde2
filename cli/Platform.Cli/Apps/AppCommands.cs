using System.CommandLine;
using System.Text.Json.Nodes;
using Platform.Cli.Output;
using static Platform.Cli.Tasks.TaskCommands;

namespace Platform.Cli.Apps;

/// <summary>cf's app verbs: <c>apps</c>, <c>app</c>, <c>create-app</c>, <c>set-env</c>, <c>unset-env</c>, <c>delete-app</c>.</summary>
internal static class AppCommands
{
    public static IEnumerable<Command> All() => [Apps(), App(), CreateApp(), SetEnv(), UnsetEnv(), DeleteApp()];

    private static Command Apps() => CliCommand.Verb("apps", "List the apps", async (c, ct) =>
    {
        var apps = await c.Api.GetAllAsync("/v3/apps?per_page=500", ct);
        if (c.Json)
        {
            c.Terminal.Json(apps);
            return ExitCodes.Success;
        }
        var table = new Table("name", "memory", "disk", "command");
        foreach (var app in apps)
            table.Add(app!["name"]?.ToString(), $"{app["memory_in_mb"]}M", $"{app["disk_in_mb"]}M", app["command"]?.ToString());
        table.WriteTo(c.Terminal);
        return ExitCodes.Success;
    });

    private static Command App()
    {
        var name = CliOptions.App();
        return CliCommand.Verb("app", "Show an app", async (c, ct) =>
        {
            var app = (await c.Api.GetAsync($"/v3/apps/{Path(c.Get(name))}", ct))!;
            if (c.Json)
            {
                c.Terminal.Json(app);
                return ExitCodes.Success;
            }
            var env = app["env"]?.AsObject().Select(e => $"{e.Key}={e.Value}") ?? [];
            var secrets = app["secret_env"]?.AsArray().Select(s => $"{s}=(secret)") ?? [];
            var fields = new (string, string?)[]
            {
                ("name", app["name"]?.ToString()), ("command", app["command"]?.ToString()),
                ("memory", $"{app["memory_in_mb"]}M"), ("disk", $"{app["disk_in_mb"]}M"),
                ("env", string.Join(" ", env.Concat(secrets))), ("created", Formats.Time(app["created_at"]?.GetValue<DateTimeOffset>())),
            };
            foreach (var (label, value) in fields)
                c.Terminal.Line($"{c.Terminal.Bold((label + ":").PadRight(10))}{value}");
            return ExitCodes.Success;
        }, name);
    }

    private static Command CreateApp()
    {
        var name = CliOptions.App();
        var command = new Option<string?>("--command", "-c") { Description = "The command its tasks run by default" };
        var memory = CliOptions.Size("--memory", "-m", "Memory limit of its tasks");
        var disk = CliOptions.Size("--disk", "-k", "Disk limit of its tasks");
        var env = CliOptions.KeyValues("--env", "An environment variable (repeatable)");
        var secret = CliOptions.KeyValues("--secret", "A secret environment variable: tasks get it, the API shows only its name (repeatable)");
        return CliCommand.Verb("create-app", "Register an app", async (c, ct) =>
        {
            var body = new JsonObject
            {
                ["name"] = c.Get(name),
                ["command"] = c.Get(command),
                ["memory_in_mb"] = c.Get(memory),
                ["disk_in_mb"] = c.Get(disk),
                ["env"] = Object(c.Get(env)),
                ["secret_env"] = Object(c.Get(secret)),
            };
            var app = await c.Api.PostAsync("/v3/apps", body, ct);
            if (c.Json) c.Terminal.Json(app);
            else c.Terminal.Line($"Created app {app?["name"]}");
            return ExitCodes.Success;
        }, name, command, memory, disk, env, secret);
    }

    private static Command SetEnv()
    {
        var app = CliOptions.App();
        var variable = new Argument<string>("NAME") { Description = "The variable's name" };
        var value = new Argument<string>("VALUE") { Description = "Its value" };
        return CliCommand.Verb("set-env", "Set an app's environment variable", async (c, ct) =>
        {
            var body = new JsonObject { ["var"] = new JsonObject { [c.Get(variable)] = c.Get(value) } };
            var result = await c.Api.PatchAsync($"/v3/apps/{Path(c.Get(app))}/environment_variables", body, ct);
            if (c.Json) c.Terminal.Json(result);
            else c.Terminal.Line($"Set {c.Get(variable)} for app {c.Get(app)}; tasks started from now on get it.");
            return ExitCodes.Success;
        }, app, variable, value);
    }

    private static Command UnsetEnv()
    {
        var app = CliOptions.App();
        var variable = new Argument<string>("NAME") { Description = "The variable's name" };
        return CliCommand.Verb("unset-env", "Remove an app's environment variable", async (c, ct) =>
        {
            var body = new JsonObject { ["var"] = new JsonObject { [c.Get(variable)] = null } };
            var result = await c.Api.PatchAsync($"/v3/apps/{Path(c.Get(app))}/environment_variables", body, ct);
            if (c.Json) c.Terminal.Json(result);
            else c.Terminal.Line($"Removed {c.Get(variable)} from app {c.Get(app)}.");
            return ExitCodes.Success;
        }, app, variable);
    }

    private static Command DeleteApp()
    {
        var app = CliOptions.App();
        var force = new Option<bool>("--force", "-f") { Description = "Terminate its unfinished tasks first (without it, an app with unfinished tasks is not deleted)" };
        return CliCommand.Verb("delete-app", "Delete an app with its tasks and logs", async (c, ct) =>
        {
            await c.Api.DeleteAsync($"/v3/apps/{Path(c.Get(app))}{(c.Get(force) ? "?force=true" : "")}", ct);
            if (c.Json) c.Terminal.Json(new JsonObject { ["deleted"] = c.Get(app) });
            else c.Terminal.Line($"Deleted app {c.Get(app)}");
            return ExitCodes.Success;
        }, app, force);
    }

    private static JsonObject? Object(Dictionary<string, string>? pairs) =>
        pairs is { Count: > 0 } ? new JsonObject(pairs.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))) : null;
}
