using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace Platform.IntegrationTests.Telemetry;

/// <summary>A publisher outside the platform, with its own trace, sees the task's spans in that trace.</summary>
[Collection(TelemetryPlatformCollection.Name)]
public sealed class OutsidePublisherTracingTests(TelemetryPlatformFixture platform)
{
    [Fact]
    public async Task A_bare_json_run_task_with_a_traceparent_header_continues_the_publishers_trace()
    {
        var app = await platform.RegisterAppAsync();
        var taskId = Guid.NewGuid();
        var publisherTrace = ActivityTraceId.CreateRandom().ToHexString();
        var publisherSpan = ActivitySpanId.CreateRandom().ToHexString();

        var factory = platform.RabbitConnectionFactory();
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
        {
            var properties = new BasicProperties
            {
                ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, UserId = factory.UserName,
                Headers = new Dictionary<string, object?> { ["traceparent"] = $"00-{publisherTrace}-{publisherSpan}-01" },
            };
            var json = JsonSerializer.Serialize(new { taskId, app, command = "true", name = "from-outside" });
            await channel.BasicPublishAsync("platform.run-task", "", false, properties, Encoding.UTF8.GetBytes(json));
        }
        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(taskId))["state"]!.GetValue<string>());

        var run = await platform.Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s => s.Name == "task run" && Equals(s["task.id"], taskId.ToString())),
            "the task's run span");
        Assert.Equal(publisherTrace, run.TraceId);
        var trace = platform.Receiver.Spans.Where(s => s.TraceId == publisherTrace).ToList();
        var receive = Assert.Single(trace, s => s.Kind == ExportedSpan.Consumer && Equals(s["messaging.destination.name"], "executor-run-task"));
        Assert.Equal(publisherSpan, receive.ParentSpanId);
        Assert.Contains(trace, s => s.Name == "task claim" && Equals(s["task.name"], "from-outside"));
    }
}
