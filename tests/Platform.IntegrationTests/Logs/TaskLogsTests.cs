using System.Diagnostics;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Logs;

[Collection(PlatformCollection.Name)]
public sealed class TaskLogsTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task A_follower_receives_lines_while_the_task_runs_and_the_stream_ends_with_the_task()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo tick 1; sleep 1.5; echo tick 2; sleep 1.5; echo tick 3" });

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v3/tasks/{id}/logs?follow=true");
        using var response = await platform.Api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var received = new List<(string Line, string StateOnArrival, double LatencyMs)>();
        string? end = null;
        string? eventName = null;
        while (await reader.ReadLineAsync() is { } sse)
        {
            if (sse.StartsWith("event: ")) eventName = sse[7..];
            else if (sse.StartsWith("data: ") && eventName == "log")
            {
                var line = JsonNode.Parse(sse[6..])!;
                var state = (await platform.GetTaskAsync(id))["state"]!.GetValue<string>();
                var latency = (DateTimeOffset.UtcNow - line["timestamp"]!.GetValue<DateTimeOffset>()).TotalMilliseconds;
                received.Add((line["line"]!.GetValue<string>(), state, latency));
            }
            else if (sse.StartsWith("data: ") && eventName == "end") end = sse[6..];
        }

        Assert.Equal(["tick 1", "tick 2", "tick 3"], received.Select(r => r.Line));
        // Live, not replayed at the end: the first two lines arrived while the task was still running.
        Assert.All(received.Take(2), r => Assert.Equal("RUNNING", r.StateOnArrival));
        Assert.Equal("SUCCEEDED", JsonNode.Parse(end!)!["state"]!.GetValue<string>());
        output.WriteLine($"follow latency (line read by executor -> received by follower), ms: {string.Join(", ", received.Select(r => r.LatencyMs.ToString("F0")))}");
    }

    [Fact]
    public async Task All_100000_lines_of_a_fast_printer_are_stored_in_order()
    {
        var app = await platform.RegisterAppAsync();
        var clock = Stopwatch.StartNew();
        var id = await platform.RunTaskAsync(app, new { command = "seq 1 100000" });

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(90));
        output.WriteLine($"100,000 lines: accepted to {task["state"]} in {clock.ElapsedMilliseconds} ms");

        await using var database = platform.OpenDatabase();
        await using var command = database.CreateCommand(
            $"select count(*), count(*) filter (where line = seq::text), min(seq), max(seq) from {platform.Isolation}.task_logs where task_id = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((100_000L, 100_000L, 1L, 100_000L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
    }

    [Fact]
    public async Task A_line_over_64_KiB_is_split_with_a_marker_and_nothing_is_lost()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "head -c 150000 /dev/zero | tr '\\0' x; echo; echo after" });

        await platform.WaitForEndAsync(id);
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();

        Assert.Equal(4, lines.Count);
        Assert.EndsWith("[line continues]", lines[0]);
        Assert.EndsWith("[line continues]", lines[1]);
        Assert.Equal(150_000, lines.Take(3).Sum(l => l.Replace(" [line continues]", "").Length));
        Assert.Equal("after", lines[3]);
    }

    [Fact]
    public async Task An_apps_recent_logs_interleave_its_tasks_by_time_each_line_tagged_with_its_task()
    {
        var app = await platform.RegisterAppAsync();
        var first = await platform.RunTaskAsync(app, new { command = "echo a1; sleep 0.5; echo a2", name = "first" });
        await Task.Delay(200);
        var second = await platform.RunTaskAsync(app, new { command = "echo b1", name = "second" });
        await platform.WaitForEndAsync(first);
        await platform.WaitForEndAsync(second);

        var logs = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/logs?recent"))!["resources"]!.AsArray();

        Assert.Equal(["a1", "b1", "a2"], logs.Select(l => l!["line"]!.GetValue<string>()));
        Assert.Equal(["first", "second", "first"], logs.Select(l => l!["task_name"]!.GetValue<string>()));
        Assert.Equal(second, logs[1]!["task_guid"]!.GetValue<Guid>());
    }
}
