using System.Diagnostics;
using System.Net.Http.Json;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Operations;

/// <summary>
/// SIGTERM, as an orchestrator sends it before replacing a pod: each service ends what it serves cleanly
/// and lets go of what it holds. (The Executor's drain is proved in the fault suite, where its settings are short.)
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ShutdownTests(PlatformFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task The_api_on_SIGTERM_ends_a_live_log_stream_with_a_shutdown_event_and_exits_cleanly()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "while true; do echo tick; sleep 1; done" });
        var api = await platform.StartAsync("Api");
        using var client = platform.Client(platform.AdminToken, api);
        client.Timeout = TimeSpan.FromSeconds(60);
        using var response = await client.GetAsync($"/v3/tasks/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
            if (line.Contains("\"line\":\"tick\"")) break;
        }

        var clock = Stopwatch.StartNew();
        var stopping = api.TerminateAsync(TimeSpan.FromSeconds(30));
        while (await reader.ReadLineAsync() is { } line) lines.Add(line); // the server closes the stream
        await stopping;
        output.WriteLine($"stream closed and Api exited {clock.Elapsed.TotalSeconds:F1} s after SIGTERM; last lines:\n{string.Join("\n", lines.TakeLast(4))}");

        Assert.Equal(0, api.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the Api took {clock.Elapsed} to stop");
        var shutdown = lines.IndexOf("event: shutdown");
        Assert.True(shutdown >= 0, "no shutdown event: " + string.Join("\n", lines.TakeLast(6)));
        Assert.Contains("\"after\":", lines[shutdown + 1]);
        Assert.DoesNotContain("event: end", lines); // the task still runs: the follower is told to reconnect, not that it ended

        await platform.Api.PostAsync($"/v3/tasks/{id}/actions/cancel", null);
        await platform.WaitForEndAsync(id);
        await platform.StopAsync(api);
    }

    [Theory]
    [InlineData("Scheduler")]
    [InlineData("Retention")]
    public async Task A_worker_on_SIGTERM_exits_within_seconds_and_closes_its_database_connections(string service)
    {
        var applicationName = $"{platform.Isolation}-{service.ToLowerInvariant()}-stop";
        var process = await platform.StartAsync(service,
            ("TaskStore__ConnectionString", $"{platform.Servers.PostgresConnectionString};Application Name={applicationName}"),
            ("Scheduler__Name", "scheduler-stop"));
        // Some work of its own first: a finished task for Retention to prune, a schedule for the Scheduler to load.
        var app = await platform.RegisterAppAsync(retention: new { max_tasks = 1 });
        // The shared executors' four slots may still be busy with earlier tests' tasks: this is set-up, so wait as long as that takes.
        // With max_tasks = 1, Retention may delete the first as soon as the second ends: gone counts as ended.
        foreach (var id in new[] { await platform.RunTaskAsync(app), await platform.RunTaskAsync(app) }) await platform.WaitForEndOrPruningAsync(id, TimeSpan.FromSeconds(90));
        Assert.True(await ConnectionsAsync(applicationName) > 0, $"{service} holds no connection to release");

        var clock = Stopwatch.StartNew();
        await process.TerminateAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{service} exited {clock.Elapsed.TotalSeconds:F1} s after SIGTERM with code {process.ExitCode}");

        Assert.Equal(0, process.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{service} took {clock.Elapsed} to stop");
        // Its session advisory locks (Retention's per-app prune lock) go with its connections.
        Assert.Equal(0, await ConnectionsAsync(applicationName));
        await platform.StopAsync(process);
    }

    private async Task<long> ConnectionsAsync(string applicationName)
    {
        await using var database = platform.OpenDatabase();
        await using var command = database.CreateCommand("select count(*) from pg_stat_activity where application_name = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = applicationName });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
