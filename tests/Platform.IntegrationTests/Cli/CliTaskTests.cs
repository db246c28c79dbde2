using System.Diagnostics;
using System.Text.RegularExpressions;
using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.Cli;

/// <summary>cf's task verbs through the built CLI against a whole platform: run-task (--wait), tasks, task, terminate-task, events, logs.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CliTaskTests(PlatformFixture platform) : IDisposable
{
    private readonly CliRunner _cli = new(platform);

    [Fact]
    public async Task Run_task_wait_shows_each_line_as_it_is_printed_in_cf_format_and_exits_0()
    {
        var app = await platform.RegisterAppAsync();
        using var process = _cli.Start(["run-task", app, "--name", "live", "--wait",
            "--command", "echo first; sleep 4; echo second >&2"]);
        var clock = Stopwatch.StartNew();
        var lines = new List<(string Line, TimeSpan At)>();
        while (await process.StandardOutput.ReadLineAsync() is { } line) lines.Add((line, clock.Elapsed));
        await process.WaitForExitAsync();
        var exited = clock.Elapsed;
        var all = string.Join("\n", lines.Select(l => $"{l.At.TotalSeconds:0.0}s {l.Line}"));

        Assert.True(process.ExitCode == 0, all + await process.StandardError.ReadToEndAsync());
        Assert.Contains(lines, l => l.Line == "task name:   live");
        Assert.Contains(lines, l => Regex.IsMatch(l.Line, @"^task id:\s+1$"));
        var first = Assert.Single(lines, l => l.Line.EndsWith("[APP/TASK/live] OUT first", StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d[+-]\d{4} \[APP/TASK/live\] OUT first$", first.Line);
        Assert.Single(lines, l => l.Line.EndsWith("[APP/TASK/live] ERR second", StringComparison.Ordinal));
        // The first line is on screen while the task still sleeps, not after it ended.
        Assert.True(exited - first.At > TimeSpan.FromSeconds(2.5), $"first line only {(exited - first.At).TotalSeconds:0.0}s before the end:\n{all}");
        Assert.Equal("Task 1 (live) SUCCEEDED", lines[^1].Line);
        Assert.DoesNotContain(lines, l => l.Line.Contains('\e'));
    }

    [Fact]
    public async Task Wait_exits_1_when_the_task_fails_2_when_cancelled_and_3_when_the_wait_times_out()
    {
        var app = await platform.RegisterAppAsync();

        var failed = await _cli.RunAsync("run-task", app, "--command", "echo going; exit 3", "--wait");
        Assert.True(failed.ExitCode == 1, failed.ToString());
        Assert.Contains("OUT going", failed.Out);
        Assert.Contains("Task 1 (", failed.Out);
        Assert.Contains("FAILED: exited with code 3", failed.Out);

        var timedOut = await _cli.RunAsync("run-task", app, "--command", "sleep 60", "--wait", "--timeout", "2s");
        Assert.True(timedOut.ExitCode == 3, timedOut.ToString());
        Assert.Contains("task 2 is still", timedOut.Err);
        Assert.Contains("it keeps running", timedOut.Err);
        Assert.InRange(timedOut.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15));
        var stillRunning = await _cli.RunAsync("task", app, "2", "--json");
        Assert.Contains(stillRunning.Json["state"]!.GetValue<string>(), new[] { "PENDING", "RUNNING" });

        // A waiting CLI whose task another CLI cancels exits 2.
        var waiting = _cli.RunAsync(["run-task", app, "--command", "sleep 60", "--wait"], []);
        await WaitForStateAsync(app, 3, "RUNNING");
        var terminate = await _cli.RunAsync("terminate-task", app, "3");
        Assert.True(terminate.ExitCode == 0, terminate.ToString());
        var cancelled = await waiting;
        Assert.True(cancelled.ExitCode == 2, cancelled.ToString());
        Assert.Contains("CANCELLED: task was cancelled", cancelled.Out);

        var ended = await _cli.RunAsync("terminate-task", app, "2", "--wait", "--json");
        Assert.True(ended.ExitCode == 0, ended.ToString());
        Assert.Equal("FAILED", ended.Json["state"]!.GetValue<string>());
        Assert.Equal("task was cancelled", ended.Json["result"]!["failure_reason"]!.GetValue<string>());

        // Cancelling an ended task is refused by the API: exit 4, its problem in one line.
        var again = await _cli.RunAsync("terminate-task", app, "2");
        Assert.True(again.ExitCode == 4, again.ToString());
        Assert.StartsWith("platform: 422 state:", again.Err);
        Assert.Single(again.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Tasks_task_events_and_logs_read_what_ran_in_tables_and_json()
    {
        var app = await platform.RegisterAppAsync(command: "echo from the app");
        Assert.Equal(0, (await _cli.RunAsync("run-task", app, "--name", "one", "--wait")).ExitCode);
        // stdout and stderr are two pipes, read apart: the pause puts the order the assertions read in the task itself.
        var second = await _cli.RunAsync("run-task", app, "--name", "two", "--command", "echo out; sleep 0.2; echo err >&2", "-m", "64M", "-k", "16M", "--wait", "--json");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(64, second.Json["memory_in_mb"]!.GetValue<int>());
        Assert.Equal(16, second.Json["disk_in_mb"]!.GetValue<int>());
        Assert.Equal("SUCCEEDED", second.Json["state"]!.GetValue<string>());

        var json = await _cli.RunAsync("tasks", app, "--json");
        Assert.Equal([2L, 1L], json.Json.AsArray().Select(t => t!["sequence_id"]!.GetValue<long>()));

        var table = await _cli.RunAsync("tasks", app);
        var rows = table.Out.TrimEnd().Split('\n');
        Assert.Matches(@"^id\s+name\s+state\s+start time\s+duration\s+command$", rows[0]);
        Assert.Matches(@"^2\s+two\s+SUCCEEDED\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+\d+\.\ds\s+echo out; sleep 0\.2; echo err >&2$", rows[1]);
        Assert.Matches(@"^1\s+one\s+SUCCEEDED\s+.*echo from the app$", rows[2]);
        Assert.Equal(rows[0].IndexOf("state", StringComparison.Ordinal), rows[1].IndexOf("SUCCEEDED", StringComparison.Ordinal));

        var task = await _cli.RunAsync("task", app, "1", "--json");
        Assert.Equal("one", task.Json["name"]!.GetValue<string>());
        Assert.Contains("state:", (await _cli.RunAsync("task", app, "1")).Out);

        var events = await _cli.RunAsync("events", app, "2", "--json");
        Assert.Equal(["task_accepted", "task_claimed", "task_succeeded"], events.Json.AsArray().Select(e => e!["type"]!.GetValue<string>()));
        Assert.Contains("task_claimed", (await _cli.RunAsync("events", app, "2")).Out);

        var logs = await _cli.RunAsync("logs", app, "--task", "2");
        Assert.Matches(@"\[APP/TASK/two\] OUT out\n.*\[APP/TASK/two\] ERR err\n$", logs.Out);
        var logsJson = await _cli.RunAsync("logs", app, "--task", "2", "--json");
        Assert.Equal(["stdout", "stderr"], logsJson.Json.AsArray().Select(l => l!["stream"]!.GetValue<string>()));
        var recent = await _cli.RunAsync("logs", app, "--recent");
        Assert.Matches(@"\[APP/TASK/one\] OUT from the app\n.*\[APP/TASK/two\] OUT out\n.*\[APP/TASK/two\] ERR err\n$", recent.Out);

        var missing = await _cli.RunAsync("task", app, "9");
        Assert.True(missing.ExitCode == 4, missing.ToString());
        Assert.Contains("has no task 9", missing.Err);
    }

    [Fact]
    public async Task Logs_follow_streams_a_running_task_until_it_ends()
    {
        var app = await platform.RegisterAppAsync();
        Assert.Equal(0, (await _cli.RunAsync("run-task", app, "--command", "echo a; sleep 2; echo b")).ExitCode);
        var followed = await _cli.RunAsync("logs", app, "--task", "1", "--follow", "--json");
        Assert.True(followed.ExitCode == 0, followed.ToString());
        var lines = followed.Out.Trim().Split('\n').Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["line"]!.GetValue<string>());
        Assert.Equal(["a", "b"], lines);

        // `logs APP`, as cf: the app's new lines from now on, until Ctrl-C (130, as any interrupted verb).
        using var streaming = _cli.Start(["logs", app, "--verbose"]);
        while (await streaming.StandardError.ReadLineAsync() is { } exchange && !exchange.StartsWith("< 200", StringComparison.Ordinal))
        {
        }
        // The verbose exchanges go on (a poll a second): keep reading them, so that a full pipe never blocks the CLI.
        var drained = streaming.StandardError.ReadToEndAsync();
        Assert.Equal(0, (await _cli.RunAsync("run-task", app, "--name", "later", "--command", "echo c")).ExitCode);
        var streamed = await streaming.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.EndsWith("[APP/TASK/later] OUT c", streamed);
        using (var interrupt = Process.Start("kill", ["-INT", streaming.Id.ToString()])) await interrupt.WaitForExitAsync();
        await streaming.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await drained;
        Assert.Equal(130, streaming.ExitCode);
    }

    private async Task WaitForStateAsync(string app, long id, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var task = await _cli.RunAsync("task", app, id.ToString(), "--json");
            if (task.ExitCode == 0 && task.Json["state"]!.GetValue<string>() == state) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"task {id} of {app} never {state}");
    }

    public void Dispose() => _cli.Dispose();
}
