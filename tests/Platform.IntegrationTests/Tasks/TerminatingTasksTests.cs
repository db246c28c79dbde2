using System.Net;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Tasks;

[Collection(PlatformCollection.Name)]
public sealed class TerminatingTasksTests(PlatformFixture platform)
{
    private async Task<HttpResponseMessage> CancelAsync(Guid id) => await platform.Api.PostAsync($"/v3/tasks/{id}/actions/cancel", null);

    private async Task WaitForStateAsync(Guid id, string state)
    {
        for (var i = 0; i < 200; i++)
        {
            if ((await platform.GetTaskAsync(id))["state"]!.GetValue<string>() == state) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"task {id} never reached {state}: {(await platform.GetTaskAsync(id)).ToJsonString()}");
    }

    /// <summary>Processes on this host whose command line is exactly the given one (the sandbox's PID namespace hides nothing from the host).</summary>
    private static int ProcessesWith(string commandLine) =>
        Directory.GetDirectories("/proc").Count(d =>
        {
            try
            {
                return Path.GetFileName(d).All(char.IsDigit) && File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' ').Trim() == commandLine;
            }
            catch (IOException)
            {
                return false;
            }
        });

    [Fact]
    public async Task Cancelling_a_running_task_kills_its_whole_process_tree_and_it_fails_as_cancelled()
    {
        var app = await platform.RegisterAppAsync();
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.5";
        var id = await platform.RunTaskAsync(app, new { command = $"sleep {marker} & sleep {marker}; echo never" });
        await WaitForStateAsync(id, "RUNNING");
        for (var i = 0; i < 50 && ProcessesWith($"sleep {marker}") < 2; i++) await Task.Delay(100);
        Assert.Equal(2, ProcessesWith($"sleep {marker}"));

        var response = await CancelAsync(id);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(accepted["state"]!.GetValue<string>(), new[] { "CANCELING", "FAILED" });

        var task = await platform.WaitForEndAsync(id);
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Equal("task was cancelled", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Equal(0, ProcessesWith($"sleep {marker}"));
        var events = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{id}/events"))!["resources"]!.AsArray()
            .Select(e => e!["type"]!.GetValue<string>());
        Assert.Equal(["task_accepted", "task_claimed", "task_cancel_requested", "task_failed"], events);
    }

    [Fact]
    public async Task A_cancelled_task_gets_sigterm_first_and_may_clean_up_within_its_grace_period()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new
        {
            command = "trap 'echo cleaning up; exit 143' TERM; echo started; while true; do sleep 0.1; done",
            termination_grace_period_seconds = 5,
        });
        await WaitForStateAsync(id, "RUNNING");
        await WaitForLineAsync(id, "started");

        await CancelAsync(id);

        var task = await platform.WaitForEndAsync(id);
        Assert.Equal("task was cancelled", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Contains(await platform.GetLogsAsync(id), l => l!["line"]!.GetValue<string>() == "cleaning up");
    }

    [Fact]
    public async Task A_task_that_ignores_sigterm_is_killed_after_its_grace_period()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new
        {
            command = "trap '' TERM; echo started; while true; do sleep 0.1; done",
            termination_grace_period_seconds = 1,
        });
        await WaitForLineAsync(id, "started");

        await CancelAsync(id);

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(20));
        Assert.Equal("task was cancelled", task["result"]!["failure_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_pending_task_that_is_cancelled_never_starts()
    {
        var app = await platform.RegisterAppAsync();
        // Fill every slot of both executors (2 x 2), so the next task waits in the queue, PENDING.
        var blockers = new List<Guid>();
        for (var i = 0; i < 4; i++) blockers.Add(await platform.RunTaskAsync(app, new { command = "sleep 30" }));
        foreach (var blocker in blockers) await WaitForStateAsync(blocker, "RUNNING");
        var pending = await platform.RunTaskAsync(app, new { command = "echo should never run" });
        await Task.Delay(300);
        Assert.Equal("PENDING", (await platform.GetTaskAsync(pending))["state"]!.GetValue<string>());

        var response = await CancelAsync(pending);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("FAILED", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["state"]!.GetValue<string>());
        foreach (var blocker in blockers) await CancelAsync(blocker);
        foreach (var blocker in blockers) await platform.WaitForEndAsync(blocker);
        await Task.Delay(1000); // the queued RunTask is delivered now that slots are free, and must be dropped

        var task = await platform.GetTaskAsync(pending);
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Equal("task was cancelled", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Empty(await platform.GetLogsAsync(pending));
        var events = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{pending}/events"))!["resources"]!.AsArray()
            .Select(e => e!["type"]!.GetValue<string>());
        Assert.DoesNotContain("task_claimed", events);
    }

    [Fact]
    public async Task Cancelling_a_task_that_already_ended_is_a_422()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "true" });
        await platform.WaitForEndAsync(id);

        var response = await CancelAsync(id);

        await RunningTasksTests.AssertProblem(response, HttpStatusCode.UnprocessableEntity, "state");
        Assert.Equal(HttpStatusCode.NotFound, (await CancelAsync(Guid.NewGuid())).StatusCode);
    }

    [Fact]
    public async Task A_task_past_its_timeout_is_terminated_with_a_reason_that_says_so()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "sleep 30", timeout_seconds = 1 });

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(20));

        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Contains("timeout of 1 s", task["result"]!["failure_reason"]!.GetValue<string>());
    }

    private async Task WaitForLineAsync(Guid id, string line)
    {
        for (var i = 0; i < 200; i++)
        {
            if ((await platform.GetLogsAsync(id)).Any(l => l!["line"]!.GetValue<string>() == line)) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"task {id} never printed '{line}'");
    }
}
