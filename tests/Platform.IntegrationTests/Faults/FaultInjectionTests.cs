using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Faults;

/// <summary>
/// Each guarantee of ARCHITECTURE.md's "Guarantees" section, proved by injecting its fault into the real
/// service processes and servers. Every test reports accepted / terminal / lost / run twice / recovery time.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class FaultInjectionTests(FaultsFixture platform, ITestOutputHelper output)
{
    private const string PrintId = "echo $PLATFORM_TASK_ID";

    private async Task PublishRawAsync(IEnumerable<string> bodies, string? contentType = "application/json")
    {
        var factory = new ConnectionFactory
        {
            HostName = platform.Servers.RabbitHost, Port = platform.Servers.RabbitPort, VirtualHost = platform.Isolation,
            UserName = platform.Servers.RabbitUser, Password = platform.Servers.RabbitPassword,
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        foreach (var body in bodies)
            await channel.BasicPublishAsync("platform.run-task", "", false,
                new BasicProperties { ContentType = contentType, DeliveryMode = DeliveryModes.Persistent, UserId = factory.UserName }, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>POSTs tasks as fast as one client can; a failed POST (the fault hit it) is not an accepted task.</summary>
    private async Task<List<Guid>> BurstAsync(string app, int count, string command, Func<int, Task>? during = null)
    {
        var accepted = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            if (during is not null) await during(i);
            try
            {
                var response = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { command });
                if (response.StatusCode == HttpStatusCode.Accepted)
                    accepted.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["guid"]!.GetValue<Guid>());
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
        }
        return accepted;
    }

    /// <summary>Every task the store holds for the app: also those whose POST failed after the task was written.</summary>
    private async Task<List<Guid>> TasksOfAsync(string app)
    {
        await using var database = platform.OpenDatabase();
        await using var command = database.CreateCommand($"select id from {platform.Isolation}.mt_doc_apptask where data ->> 'App' = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = app });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetGuid(0));
        return ids;
    }

    private static void AssertNothingLostOrRunTwice(FaultReport report)
    {
        Assert.True(report.Accepted > 0, $"{report.Fault}: no task was accepted, so nothing was tested");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.RunTwice);
    }

    [Fact]
    public async Task Every_run_task_published_twice_runs_once()
    {
        var app = await platform.RegisterAppAsync(command: PrintId);
        var ids = Enumerable.Range(0, FaultsFixture.Scaled(20)).Select(_ => Guid.NewGuid()).ToList();
        var bodies = ids.Select(id => JsonSerializer.Serialize(new { taskId = id, app })).ToList();

        var clock = Stopwatch.StartNew();
        await PublishRawAsync(bodies.Concat(bodies));

        AssertNothingLostOrRunTwice(await FaultReport.WaitAsync(platform, "duplicate RunTask", ids, clock, TimeSpan.FromSeconds(60), output));
    }

    [Fact]
    public async Task Tasks_written_but_never_published_are_dispatched_again_and_run()
    {
        // Exactly what an Api killed between its write and its publish leaves behind: the stream, no message.
        var app = await platform.RegisterAppAsync(command: PrintId);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["TaskStore:ConnectionString"] = platform.Servers.PostgresConnectionString;
        builder.Configuration["TaskStore:Schema"] = platform.Isolation;
        builder.AddTaskStore();
        using var host = builder.Build();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var sequences = host.Services.GetRequiredService<AppSequences>();
        var ids = new List<Guid>();
        await using (var session = store.LightweightSession())
        {
            var registered = (await session.LoadAsync<App>(app))!;
            for (var i = 0; i < FaultsFixture.Scaled(10); i++)
            {
                var id = Guid.NewGuid();
                session.Events.StartStream<AppTask>(id, TaskDefinition.Accept(id, await sequences.NextAsync(app, default),
                    new TaskOverrides(null, null, null, null, null), registered, DateTimeOffset.UtcNow));
                ids.Add(id);
            }
            await session.SaveChangesAsync();
        }

        var report = await FaultReport.WaitAsync(platform, "Api died between write and publish", ids, Stopwatch.StartNew(), TimeSpan.FromSeconds(60), output);

        AssertNothingLostOrRunTwice(report);
        var task = await platform.GetTaskAsync(ids[0]);
        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Killing_the_api_mid_burst_loses_no_accepted_task()
    {
        var app = await platform.RegisterAppAsync(command: PrintId);
        var count = FaultsFixture.Scaled(40);
        var clock = new Stopwatch();
        var accepted = await BurstAsync(app, count, PrintId, async i =>
        {
            if (i != count / 2) return;
            clock.Start();
            await platform.KillAndRestartAsync(platform.ApiProcess);
        });

        var all = accepted.Union(await TasksOfAsync(app)).ToList();
        Assert.Subset(all.ToHashSet(), accepted.ToHashSet());
        AssertNothingLostOrRunTwice(await FaultReport.WaitAsync(platform, "kill -9 Api mid-burst", all, clock, TimeSpan.FromSeconds(60), output));
    }

    [Fact]
    public async Task A_killed_executors_running_tasks_fail_naming_it_within_the_lease()
    {
        var app = await platform.RegisterAppAsync();
        var ids = await BurstAsync(app, FaultsFixture.Scaled(10), $"{PrintId}; sleep 120");
        var claims = new Dictionary<Guid, string>();
        for (var attempt = 0; attempt < 200 && claims.Count < ids.Count; attempt++)
        {
            foreach (var id in ids.Except(claims.Keys))
                if ((await platform.GetTaskAsync(id))["state"]!.GetValue<string>() == "RUNNING")
                    claims[id] = await platform.ExecutorOfAsync(id);
            await Task.Delay(100);
        }
        Assert.Equal(ids.Count, claims.Count);
        var victimName = claims.Values.GroupBy(e => e).MaxBy(g => g.Count())!.Key;
        var victim = platform.Services.Single(s => s.Environment.GetValueOrDefault("Executor__Name") == victimName);
        var orphaned = claims.Where(c => c.Value == victimName).Select(c => c.Key).ToList();

        var clock = Stopwatch.StartNew();
        victim.Kill();
        var report = await FaultReport.WaitAsync(platform, $"kill -9 executor during {ids.Count} running tasks", orphaned, clock,
            FaultsFixture.Lease + TimeSpan.FromSeconds(30), output);

        Assert.Equal(0, report.Lost);
        foreach (var id in orphaned)
        {
            var task = await platform.GetTaskAsync(id);
            Assert.Equal("FAILED", task["state"]!.GetValue<string>());
            Assert.Contains($"executor {victimName} was lost", task["result"]!["failure_reason"]!.GetValue<string>());
        }
        foreach (var survivor in ids.Except(orphaned))
            Assert.Equal("RUNNING", (await platform.GetTaskAsync(survivor))["state"]!.GetValue<string>());

        foreach (var survivor in ids.Except(orphaned)) await platform.Api.PostAsync($"/v3/tasks/{survivor}/actions/cancel", null);
        await platform.KillAndRestartAsync(victim);
        foreach (var survivor in ids.Except(orphaned)) await platform.WaitForEndAsync(survivor);
    }

    [Fact]
    public async Task With_a_retry_policy_a_killed_executors_task_runs_again_elsewhere_and_each_attempt_is_recorded()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo attempt; sleep 120", max_attempts = 2 });
        for (var i = 0; i < 100 && (await platform.GetTaskAsync(id))["state"]!.GetValue<string>() != "RUNNING"; i++) await Task.Delay(100);
        var first = await platform.ExecutorOfAsync(id);
        var victim = platform.Services.Single(s => s.Environment.GetValueOrDefault("Executor__Name") == first);
        for (var i = 0; i < 100 && (await platform.GetLogsAsync(id)).Count == 0; i++) await Task.Delay(100); // attempt 1 has printed

        var clock = Stopwatch.StartNew();
        victim.Kill();
        JsonNode task;
        do
        {
            await Task.Delay(200);
            task = await platform.GetTaskAsync(id);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"attempt 2 never ran: {task.ToJsonString()}");
        } while (task["attempt"]!.GetValue<int>() < 2 || task["state"]!.GetValue<string>() != "RUNNING");
        output.WriteLine($"attempt 2 running {clock.Elapsed.TotalSeconds:F1} s after kill -9 of {first}");

        var events = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{id}/events"))!["resources"]!.AsArray();
        var types = events.Select(e => e!["type"]!.GetValue<string>()).ToList();
        // A busy machine may re-dispatch the task before its first claim too; what matters is the attempts.
        Assert.Equal(["task_accepted", "task_claimed", "task_requeued", "task_claimed"], types.Where(t => t != "task_redispatched"));
        var requeued = types.IndexOf("task_requeued");
        Assert.Contains("task_redispatched", types.Skip(requeued));
        Assert.Contains($"executor {first} was lost", events[requeued]!["data"]!["reason"]!.GetValue<string>());
        Assert.NotEqual(first, events[types.LastIndexOf("task_claimed")]!["data"]!["executor"]!.GetValue<string>());

        // The second attempt's output follows the first's, numbered on: nothing overwritten, nothing refused.
        JsonArray logs;
        do
        {
            await Task.Delay(200);
            logs = await platform.GetLogsAsync(id);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the second attempt's output never arrived: {logs.ToJsonString()}");
        } while (logs.Count(l => l!["line"]!.GetValue<string>() == "attempt") < 2);
        await platform.Api.PostAsync($"/v3/tasks/{id}/actions/cancel", null);
        Assert.Equal("task was cancelled", (await platform.WaitForEndAsync(id))["result"]!["failure_reason"]!.GetValue<string>());
        logs = await platform.GetLogsAsync(id);
        Assert.Equal(2, logs.Count(l => l!["line"]!.GetValue<string>() == "attempt"));
        Assert.Equal(Enumerable.Range(1, logs.Count).Select(n => (long)n), logs.Select(l => l!["sequence"]!.GetValue<long>()));
        await platform.KillAndRestartAsync(victim);
    }

    [Fact]
    public async Task With_no_executor_left_the_surviving_services_fail_a_lost_executors_tasks_within_the_lease()
    {
        var app = await platform.RegisterAppAsync();
        var ids = await BurstAsync(app, FaultsFixture.Scaled(6), $"{PrintId}; sleep 120");
        await WaitUntilRunningAsync(ids);
        var executors = platform.Services.Where(s => s.Service == "Executor").ToList();
        var claims = new Dictionary<Guid, string>();
        foreach (var id in ids) claims[id] = await platform.ExecutorOfAsync(id);

        // Every executor dies: only the Api, the Schedulers and Retention are left to notice.
        var clock = Stopwatch.StartNew();
        foreach (var executor in executors) executor.Kill();
        var report = await FaultReport.WaitAsync(platform, $"kill -9 of every executor during {ids.Count} running tasks", ids, clock,
            FaultsFixture.Lease + TimeSpan.FromSeconds(10), output);

        Assert.Equal(0, report.Lost);
        Assert.All(executors, e => Assert.True(e.HasExited));
        foreach (var id in ids)
        {
            var task = await platform.GetTaskAsync(id);
            Assert.Equal("FAILED", task["state"]!.GetValue<string>());
            Assert.Contains($"executor {claims[id]} was lost", task["result"]!["failure_reason"]!.GetValue<string>());
        }
        foreach (var executor in executors) await platform.KillAndRestartAsync(executor);
    }

    [Fact]
    public async Task An_executor_sent_SIGTERM_takes_no_new_task_lets_running_ones_finish_then_fails_or_requeues_the_rest()
    {
        var app = await platform.RegisterAppAsync();
        var shortOne = await platform.RunTaskAsync(app, new { command = "sleep 2; echo finished" });
        var longOne = await platform.RunTaskAsync(app, new { command = "sleep 300" });
        var retried = await platform.RunTaskAsync(app, new { command = "echo attempt; sleep 300", max_attempts = 2 });
        await WaitUntilRunningAsync([shortOne, longOne, retried]);

        var executors = platform.Services.Where(s => s.Service == "Executor").ToList();
        var clock = Stopwatch.StartNew();
        var stopping = Task.WhenAll(executors.Select(e => e.TerminateAsync()));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var postedDuringDrain = await platform.RunTaskAsync(app, new { command = "echo after" });
        await stopping;
        var stopped = clock.Elapsed;
        output.WriteLine($"both executors drained and stopped {stopped.TotalSeconds:F1} s after SIGTERM (drain period {FaultsFixture.DrainPeriod.TotalSeconds} s)");

        Assert.All(executors, e => Assert.Equal(0, e.ExitCode));
        Assert.True(stopped < FaultsFixture.DrainPeriod + TimeSpan.FromSeconds(12), $"stopping took {stopped}");
        Assert.Equal("SUCCEEDED", (await platform.GetTaskAsync(shortOne))["state"]!.GetValue<string>());
        var failed = await platform.GetTaskAsync(longOne);
        Assert.Equal("FAILED", failed["state"]!.GetValue<string>());
        Assert.Matches("executor executor-[ab] shut down while the task ran", failed["result"]!["failure_reason"]!.GetValue<string>());
        var requeued = await platform.GetTaskAsync(retried);
        Assert.Equal("PENDING", requeued["state"]!.GetValue<string>());
        Assert.Equal(2, requeued["attempt"]!.GetValue<int>());
        // Taken by no draining executor: it waits in the queue (or the store) for the next one.
        Assert.Equal("PENDING", (await platform.GetTaskAsync(postedDuringDrain))["state"]!.GetValue<string>());

        foreach (var executor in executors) await platform.KillAndRestartAsync(executor);
        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(postedDuringDrain, TimeSpan.FromSeconds(60)))["state"]!.GetValue<string>());
        for (var i = 0; i < 300 && (await platform.GetTaskAsync(retried))["state"]!.GetValue<string>() != "RUNNING"; i++) await Task.Delay(200);
        Assert.Equal("RUNNING", (await platform.GetTaskAsync(retried))["state"]!.GetValue<string>());
        await platform.Api.PostAsync($"/v3/tasks/{retried}/actions/cancel", null);
        await platform.WaitForEndAsync(retried);
    }

    private async Task WaitUntilRunningAsync(IReadOnlyCollection<Guid> ids)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var states = await Task.WhenAll(ids.Select(async id => (await platform.GetTaskAsync(id))["state"]!.GetValue<string>()));
            if (states.All(s => s == "RUNNING")) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"not all of {ids.Count} tasks started\n{platform.DescribeServices()}");
    }

    [Fact]
    public async Task RabbitMQ_going_away_mid_burst_loses_and_duplicates_nothing_and_work_resumes()
    {
        var app = await platform.RegisterAppAsync(command: PrintId);
        var count = FaultsFixture.Scaled(100);
        var clock = new Stopwatch();
        var sawUnhealthy = false;
        var restarts = platform.Restarts;
        var accepted = await BurstAsync(app, count, PrintId, async i =>
        {
            if (i != count / 2) return;
            clock.Start();
            if (restarts is not null)
            {
                await restarts.StopRabbitMqAsync();
                sawUnhealthy = await AnyUnhealthyAsync();
                await restarts.StartRabbitMqAsync();
            }
            else
            {
                await RabbitMqVirtualHosts.CloseConnectionsAsync(platform.Servers, platform.Isolation);
            }
        });
        var afterwards = await BurstAsync(app, 5, PrintId);

        var all = accepted.Union(afterwards).Union(await TasksOfAsync(app)).ToList();
        var report = await FaultReport.WaitAsync(platform, restarts is null ? "RabbitMQ connections dropped mid-burst" : restarts.Describe("RabbitMQ") + " mid-burst",
            all, clock, TimeSpan.FromSeconds(120), output);

        AssertNothingLostOrRunTwice(report);
        Assert.Equal(5, afterwards.Count); // consumers came back: tasks published after the fault ran too
        if (restarts is not null) Assert.True(sawUnhealthy, "no service reported unhealthy while RabbitMQ was down");
        await AssertAllHealthyAsync();
    }

    [Fact]
    public async Task PostgreSQL_going_away_mid_burst_loses_and_duplicates_nothing()
    {
        var app = await platform.RegisterAppAsync(command: PrintId);
        var count = FaultsFixture.Scaled(100);
        var clock = new Stopwatch();
        var restarts = platform.Restarts;
        var accepted = await BurstAsync(app, count, PrintId, async i =>
        {
            if (i != count / 2) return;
            clock.Start();
            if (restarts is not null)
            {
                await restarts.RestartPostgresAsync();
            }
            else
            {
                await using var database = platform.OpenDatabase();
                await using var command = database.CreateCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1");
                command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = platform.Isolation });
                output.WriteLine($"terminated {await command.ExecuteScalarAsync()} connections of this platform");
            }
        });

        var all = accepted.Union(await TasksOfAsync(app)).ToList();
        var report = await FaultReport.WaitAsync(platform, restarts is null ? "PostgreSQL connections dropped mid-burst" : restarts.Describe("PostgreSQL") + " mid-burst",
            all, clock, TimeSpan.FromSeconds(120), output);

        AssertNothingLostOrRunTwice(report);
        await AssertAllHealthyAsync();
    }

    [Fact]
    public async Task Malformed_and_invalid_run_tasks_go_to_the_error_queue_and_block_nothing()
    {
        var app = await platform.RegisterAppAsync(command: PrintId);
        var invalid = Guid.NewGuid();
        var valid = Guid.NewGuid();

        await PublishRawAsync([
            "{ this is not json",
            JsonSerializer.Serialize(new { taskId = Guid.NewGuid(), app = "no-such-app" }),
            JsonSerializer.Serialize(new { taskId = invalid, app, command = new string('x', 5000) }),
            JsonSerializer.Serialize(new { taskId = valid, app }),
        ]);

        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(valid))["state"]!.GetValue<string>());
        var rejected = await platform.WaitForEndAsync(invalid);
        Assert.Equal("FAILED", rejected["state"]!.GetValue<string>());
        Assert.Contains("rejected", rejected["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Contains("4096", rejected["result"]!["failure_reason"]!.GetValue<string>());
        var inError = 0;
        for (var i = 0; i < 60 && inError < 3; i++)
        {
            inError = await RabbitMqVirtualHosts.MessagesInAsync(platform.Servers, platform.Isolation, "executor-run-task_error");
            await Task.Delay(500);
        }
        Assert.Equal(3, inError);
        await AssertAllHealthyAsync();
    }

    private async Task<bool> AnyUnhealthyAsync()
    {
        for (var i = 0; i < 40; i++)
        {
            foreach (var service in platform.Services)
            {
                using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
                try
                {
                    if ((await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.ServiceUnavailable) return true;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
            }
            await Task.Delay(250);
        }
        return false;
    }

    private async Task AssertAllHealthyAsync()
    {
        foreach (var service in platform.Services) await service.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
    }
}
