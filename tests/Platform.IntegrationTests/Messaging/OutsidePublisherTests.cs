using System.Text;
using System.Text.Json;
using Platform.IntegrationTests.Infrastructure;
using RabbitMQ.Client;

namespace Platform.IntegrationTests.Messaging;

/// <summary>A service in any language starts a task with a plain AMQP client, as docs/wire-format.md describes.</summary>
[Collection(MessagingCollection.Name)]
public sealed class OutsidePublisherTests(MessagingFixture platform)
{
    private async Task PublishAsync(string json, string? contentType, string? messageId = null)
    {
        var factory = platform.RabbitConnectionFactory();
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { ContentType = contentType, DeliveryMode = DeliveryModes.Persistent, MessageId = messageId, UserId = factory.UserName };
        await channel.BasicPublishAsync("platform.run-task", "", mandatory: false, properties, Encoding.UTF8.GetBytes(json));
    }

    [Fact]
    public async Task A_bare_json_run_task_from_a_plain_amqp_client_runs_and_is_recorded()
    {
        var app = await platform.RegisterAppAsync();
        var taskId = Guid.NewGuid();

        await PublishAsync(JsonSerializer.Serialize(new { taskId, app, command = "echo from outside", name = "outside" }), "application/json");

        var task = await platform.WaitForEndAsync(taskId, TimeSpan.FromSeconds(30));
        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        Assert.Equal("outside", task["name"]!.GetValue<string>());
        Assert.Equal(1, task["sequence_id"]!.GetValue<long>());
        Assert.Equal("from outside", (await platform.GetLogsAsync(taskId)).Single()!["line"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_a_task_id_or_content_type_the_message_id_becomes_the_task_id_and_the_app_command_runs()
    {
        var app = await platform.RegisterAppAsync(command: "echo app default");
        var messageId = Guid.NewGuid();

        await PublishAsync(JsonSerializer.Serialize(new { app }), contentType: null, messageId: messageId.ToString());

        var task = await platform.WaitForEndAsync(messageId, TimeSpan.FromSeconds(30));
        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        Assert.Equal("app default", (await platform.GetLogsAsync(messageId)).Single()!["line"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_run_task_past_the_apps_unfinished_task_limit_fails_naming_the_limit_and_runs_nothing()
    {
        // This fixture's executors are replaced for this test by one whose limit is two unfinished tasks per app,
        // with a slot free beside the two blockers' (a RunTask is claimed, and judged, once a slot is free).
        await platform.StopAllAsync("Executor");
        var executor = await platform.StartAsync("Executor",
            ("Executor__Name", "executor-limited"), ("Access__Limits__MaxUnfinishedTasksPerApp", "2"), ("Executor__MaxConcurrentTasks", "4"));
        try
        {
            var app = await platform.RegisterAppAsync("sleep 120");
            var blockers = new[] { await platform.RunTaskAsync(app), await platform.RunTaskAsync(app) };
            var taskId = Guid.NewGuid();

            await PublishAsync(JsonSerializer.Serialize(new { taskId, app, command = "echo past the limit" }), "application/json");

            var task = await platform.WaitForEndAsync(taskId, TimeSpan.FromSeconds(30));
            Assert.Equal("FAILED", task["state"]!.GetValue<string>());
            Assert.Equal($"the task was rejected: App '{app}' already has 2 unfinished tasks: the limit per app (Access:Limits:MaxUnfinishedTasksPerApp) is 2.",
                task["result"]!["failure_reason"]!.GetValue<string>());
            Assert.Empty(await platform.GetLogsAsync(taskId));
            foreach (var blocker in blockers) (await platform.Api.PostAsync($"/v3/tasks/{blocker}/actions/cancel", null)).EnsureSuccessStatusCode();
            foreach (var blocker in blockers) await platform.WaitForEndAsync(blocker);

            // Below the limit, the same publisher's next task runs: the refusal was the limit's doing.
            var next = Guid.NewGuid();
            await PublishAsync(JsonSerializer.Serialize(new { taskId = next, app, command = "echo within the limit" }), "application/json");
            Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(next, TimeSpan.FromSeconds(30)))["state"]!.GetValue<string>());
        }
        finally
        {
            await platform.StopAsync(executor);
            await platform.StartAsync("Executor", ("Executor__Name", PlatformFixture.ExecutorA));
            await platform.StartAsync("Executor", ("Executor__Name", PlatformFixture.ExecutorB), ("Executor__Sandbox__Launcher", ""));
        }
    }

    [Fact]
    public async Task The_same_run_task_published_twice_runs_once()
    {
        var app = await platform.RegisterAppAsync();
        var taskId = Guid.NewGuid();
        var json = JsonSerializer.Serialize(new { taskId, app, command = "echo once" });

        await PublishAsync(json, "application/json");
        await PublishAsync(json, "application/json");

        await platform.WaitForEndAsync(taskId, TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        Assert.Equal("echo once"[5..], (await platform.GetLogsAsync(taskId)).Single()!["line"]!.GetValue<string>());
        var events = System.Text.Json.Nodes.JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{taskId}/events"))!["resources"]!.AsArray();
        Assert.Single(events, e => e!["type"]!.GetValue<string>() == "task_claimed");
    }
}
