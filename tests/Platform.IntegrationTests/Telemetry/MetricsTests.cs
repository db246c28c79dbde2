using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.IntegrationTests.Infrastructure;
using RabbitMQ.Client;

namespace Platform.IntegrationTests.Telemetry;

/// <summary>The numbers an operator puts on a dashboard and alerts on, as the services export them.</summary>
[Collection(TelemetryPlatformCollection.Name)]
public sealed class MetricsTests(TelemetryPlatformFixture platform)
{
    private OtlpReceiver Receiver => platform.Receiver;

    [Fact]
    public async Task A_succeeded_and_a_failed_task_are_counted_by_app_and_outcome_with_their_wait_and_run_times()
    {
        var app = await platform.RegisterAppAsync();
        var succeeded = await platform.RunTaskAsync(app, new { command = "true" });
        var failed = await platform.RunTaskAsync(app, new { command = "exit 3" });
        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(succeeded))["state"]!.GetValue<string>());
        Assert.Equal("FAILED", (await platform.WaitForEndAsync(failed))["state"]!.GetValue<string>());

        // The Api (created), the executors (started, completed) and each export on its own period: wait for all three.
        await Receiver.WaitForAsync(r =>
            r.Total("platform.tasks.completed", ("app.name", app)) == 2 && r.Total("platform.tasks.running", ("app.name", app)) == 0
            && r.Total("platform.tasks.created", ("app.name", app)) >= 2 && r.Total("platform.tasks.started", ("app.name", app)) >= 2 ? r : null,
            "two created, started and completed tasks of the app and none running");

        Assert.Equal(2, Receiver.Total("platform.tasks.created", ("app.name", app)));
        Assert.Equal(2, Receiver.Total("platform.tasks.started", ("app.name", app)));
        Assert.Equal(1, Receiver.Total("platform.tasks.completed", ("app.name", app), ("task.outcome", "succeeded")));
        Assert.Equal(1, Receiver.Total("platform.tasks.completed", ("app.name", app), ("task.outcome", "failed")));
        Assert.Equal(0, Receiver.Total("platform.tasks.completed", ("app.name", app), ("task.outcome", "cancelled")));
        // Histograms: the count of recorded values.
        Assert.Equal(2, Receiver.Total("platform.task.queue_wait", ("app.name", app)));
        Assert.Equal(2, Receiver.Total("platform.task.duration", ("app.name", app)));
        Assert.Equal(1, Receiver.Total("platform.task.duration", ("app.name", app), ("task.outcome", "failed")));
    }

    [Fact]
    public async Task A_cancelled_running_task_is_counted_as_cancelled_not_failed()
    {
        var app = await platform.RegisterAppAsync();
        var taskId = await platform.RunTaskAsync(app, new { command = "sleep 60" });
        await Receiver.WaitForAsync(r => r.Total("platform.tasks.running", ("app.name", app)) == 1 ? r : null, "the task running");

        (await platform.Api.PostAsync($"/v3/tasks/{taskId}/actions/cancel", null)).EnsureSuccessStatusCode();
        Assert.Equal("FAILED", (await platform.WaitForEndAsync(taskId))["state"]!.GetValue<string>());

        await Receiver.WaitForAsync(r => r.Total("platform.tasks.completed", ("app.name", app)) == 1 ? r : null, "the task's completion");
        Assert.Equal(1, Receiver.Total("platform.tasks.completed", ("app.name", app), ("task.outcome", "cancelled")));
        Assert.Equal(0, Receiver.Total("platform.tasks.running", ("app.name", app)));
    }

    [Fact]
    public async Task A_task_cancelled_while_pending_is_counted_as_cancelled_by_the_api()
    {
        // Every executor slot busy, so that the next task stays PENDING.
        var app = await platform.RegisterAppAsync();
        var sleepers = await FillEveryExecutorSlotAsync(app);
        var pending = await platform.RunTaskAsync(app, new { command = "true" });
        Assert.Equal("PENDING", (await platform.GetTaskAsync(pending))["state"]!.GetValue<string>());

        (await platform.Api.PostAsync($"/v3/tasks/{pending}/actions/cancel", null)).EnsureSuccessStatusCode();
        await Receiver.WaitForAsync(r => ApiSeries(r, "platform.tasks.completed", app).Any() ? r : null, "the Api's count of the cancelled task");
        var counted = Assert.Single(ApiSeries(Receiver, "platform.tasks.completed", app).GroupBy(p => p.Attributes["task.outcome"])).Last();
        Assert.Equal("cancelled", counted.Attributes["task.outcome"]);
        Assert.Equal(1, counted.Value);

        foreach (var sleeper in sleepers) await platform.Api.PostAsync($"/v3/tasks/{sleeper}/actions/cancel", null);
        foreach (var sleeper in sleepers) await platform.WaitForEndAsync(sleeper);
        await Receiver.WaitForAsync(r => r.Total("platform.tasks.completed", ("app.name", app), ("task.outcome", "cancelled")) == 5 ? r : null,
            "five cancelled tasks: one by the Api, four by the executors");
        Assert.Equal(4, Receiver.Total("platform.tasks.started", ("app.name", app)));
    }

    /// <summary>Runs four long tasks of the app: two executors with two slots each are then full.</summary>
    private async Task<List<Guid>> FillEveryExecutorSlotAsync(string app)
    {
        var tasks = new List<Guid>();
        for (var i = 0; i < 4; i++) tasks.Add(await platform.RunTaskAsync(app, new { command = "sleep 60" }));
        await Receiver.WaitForAsync(r => r.Total("platform.tasks.running", ("app.name", app)) == 4 ? r : null, "four tasks running");
        return tasks;
    }

    private static IEnumerable<ExportedMetricPoint> ApiSeries(OtlpReceiver receiver, string metric, string app) =>
        receiver.MetricPoints.Where(p => p.Name == metric && (string)p.Resource["service.name"] == "Platform.Api" && Equals(p.Attributes.GetValueOrDefault("app.name"), app));

    [Fact]
    public async Task The_tasks_of_a_killed_executor_are_counted_as_leases_expired_and_failed()
    {
        // Both executors full, so that exactly two of the app's tasks run on executor A.
        var app = await platform.RegisterAppAsync();
        var tasks = await FillEveryExecutorSlotAsync(app);

        await platform.KillAndRestartAsync(platform.Services.Single(s => s.Environment.GetValueOrDefault("Executor__Name") == PlatformFixture.ExecutorA));

        await Receiver.WaitForAsync(r => r.Total("platform.executor.leases_expired", ("app.name", app)) == 2 ? r : null,
            "the two tasks of the killed executor counted", TimeSpan.FromSeconds(60));
        await Receiver.WaitForAsync(r => r.Total("platform.tasks.completed", ("app.name", app), ("task.outcome", "failed")) == 2 ? r : null,
            "the two tasks of the killed executor counted as failed");
        foreach (var task in tasks) await platform.Api.PostAsync($"/v3/tasks/{task}/actions/cancel", null);
        foreach (var task in tasks) await platform.WaitForEndAsync(task);
    }

    [Fact]
    public async Task A_run_task_that_can_never_run_is_counted_as_sent_to_the_error_queue()
    {
        var before = Receiver.Total("platform.messages.error_queued", ("messaging.destination.name", "executor-run-task"));
        var factory = platform.RabbitConnectionFactory();
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var json = JsonSerializer.Serialize(new { taskId = Guid.NewGuid(), app = "no-such-app-" + Guid.NewGuid().ToString("N") });
        await channel.BasicPublishAsync("platform.run-task", "", false,
            new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, UserId = factory.UserName }, Encoding.UTF8.GetBytes(json));

        await Receiver.WaitForAsync(r =>
            r.Total("platform.messages.error_queued", ("messaging.destination.name", "executor-run-task"), ("error.type", "RunTaskRejected")) > before ? r : null,
            "the rejected RunTask counted as sent to the error queue");
        // Counting replaced MassTransit's default error pipe: the message must still reach the error queue.
        Assert.True((await channel.QueueDeclarePassiveAsync("executor-run-task_error")).MessageCount >= 1);
    }

    [Fact]
    public async Task The_metrics_endpoint_serves_the_task_instruments_in_prometheus_format()
    {
        var app = await platform.RegisterAppAsync();
        await platform.WaitForEndAsync(await platform.RunTaskAsync(app));

        var executors = platform.Services.Where(s => s.Service == "Executor").ToList();
        var scrapes = await Task.WhenAll(executors.Select(async e =>
        {
            using var client = new HttpClient { BaseAddress = e.BaseAddress };
            return await client.GetStringAsync("/metrics");
        }));
        var api = await platform.Api.GetStringAsync("/metrics");

        Assert.Single(scrapes, text => Series("platform_tasks_started_total", app, 1).IsMatch(text));
        Assert.Matches(Series("platform_tasks_created_total", app, 1), api);
        Assert.Contains(scrapes, text => Series("platform_task_duration_seconds_count", app, 1).IsMatch(text));
        // Buckets in seconds, sized for tasks, not the SDK's millisecond defaults.
        Assert.Contains(scrapes, text => Regex.IsMatch(text, $"^platform_task_duration_seconds_bucket\\{{[^}}]*app_name=\"{app}\"[^}}]*le=\"0.5\"", RegexOptions.Multiline));
    }

    // One Prometheus sample line: the metric, a label set holding the app, and the value.
    private static Regex Series(string metric, string app, int value) =>
        new($"^{metric}\\{{[^}}]*app_name=\"{app}\"[^}}]*\\}} {value}( |$)", RegexOptions.Multiline);
}
