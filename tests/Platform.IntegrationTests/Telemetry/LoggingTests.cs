namespace Platform.IntegrationTests.Telemetry;

/// <summary>Every log line carries the trace and span it was written in, so that a dashboard links it to its trace.</summary>
[Collection(TelemetryPlatformCollection.Name)]
public sealed class LoggingTests(TelemetryPlatformFixture platform)
{
    [Fact]
    public async Task The_executors_log_line_for_a_task_carries_the_tasks_trace_on_the_console_and_in_the_export()
    {
        var app = await platform.RegisterAppAsync();
        var taskId = await platform.RunTaskAsync(app);
        await platform.WaitForEndAsync(taskId);

        var run = await platform.Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s => s.Name == "task run" && Equals(s["task.id"], taskId.ToString())),
            "the task's run span");
        var exported = await platform.Receiver.WaitForAsync(r => r.Logs.FirstOrDefault(l => l.Body.Contains(taskId.ToString()) && l.Body.Contains("ended")),
            "the executor's log record of the task's end");
        Assert.Equal(run.TraceId, exported.TraceId);
        Assert.Equal(run.SpanId, exported.SpanId);

        var console = platform.Services.Where(s => s.Service == "Executor")
            .SelectMany(s => s.Tail(2000).Split('\n'))
            .Single(line => line.Contains(taskId.ToString()) && line.Contains("ended"));
        Assert.Contains($"TraceId:{run.TraceId}", console);
        Assert.Contains($"SpanId:{run.SpanId}", console);
    }
}
