using System.Net.Http.Json;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Telemetry;

/// <summary>One trace per task, across the Api, the bus, the executor, the process and the history writes.</summary>
[Collection(TelemetryPlatformCollection.Name)]
public sealed class TracingTests(TelemetryPlatformFixture platform)
{
    private OtlpReceiver Receiver => platform.Receiver;

    [Fact]
    public async Task A_task_run_through_the_api_is_one_trace_from_the_request_to_the_completion()
    {
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var app = "app-" + Guid.NewGuid().ToString("N")[..10];
        (await platform.Api.PostAsJsonAsync("/v3/apps", new
        {
            name = app, command = "true", secret_env = new Dictionary<string, string> { ["DB_PASSWORD"] = secret },
        })).EnsureSuccessStatusCode();

        var taskId = await platform.RunTaskAsync(app, new { command = "echo \"$TRACEPARENT\"", name = "traced" });
        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(taskId))["state"]!.GetValue<string>());

        var request = await Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s => s.Kind == ExportedSpan.Server && Equals(s["task.id"], taskId.ToString())),
            "the Api's request span");
        var trace = await Receiver.WaitForAsync(r =>
        {
            var spans = r.Spans.Where(s => s.TraceId == request.TraceId).ToList();
            return spans.Any(s => s.Kind == ExportedSpan.Producer && Destination(s).Contains("task-completed")) ? spans : null;
        }, "the TaskCompleted publish in the request's trace");

        // The HTTP request, with its route and the task it accepted.
        Assert.Equal("Platform.Api", request.Service);
        Assert.Equal("POST", request["http.request.method"]);
        Assert.Equal("/v3/apps/{app}/tasks", request["http.route"]);
        Assert.Equal(app, request["app.name"]);
        Assert.Equal("traced", request["task.name"]);
        Assert.Equal(TelemetryPlatformFixture.DeploymentEnvironment, request.Resource["deployment.environment.name"]);

        // The RunTask publish from the Api and its consume on an executor, with the messaging conventions.
        var publish = Assert.Single(trace, s => s.Kind == ExportedSpan.Producer && Destination(s).Contains("run-task"));
        Assert.Equal("Platform.Api", publish.Service);
        Assert.Equal("rabbitmq", publish["messaging.system"]);
        var receive = Assert.Single(trace, s => s.Kind == ExportedSpan.Consumer && Destination(s) == "executor-run-task");
        Assert.Equal("Platform.Executor", receive.Service);
        Assert.Equal(publish.SpanId, receive.ParentSpanId);
        var consume = Assert.Single(trace, s => s.Kind == ExportedSpan.Consumer && $"{s["messaging.masstransit.consumer_type"]}".EndsWith(".RunTaskConsumer"));
        Assert.Equal(receive.SpanId, consume.ParentSpanId);

        // The claim and the run, both children of the consume span although the run continues after it.
        var claim = Assert.Single(trace, s => s.Name == "task claim");
        Assert.Equal(consume.SpanId, claim.ParentSpanId);
        Assert.Equal(taskId.ToString(), claim["task.id"]);
        var run = Assert.Single(trace, s => s.Name == "task run");
        Assert.Equal(consume.SpanId, run.ParentSpanId);
        Assert.Equal(taskId.ToString(), run["task.id"]);
        Assert.Equal("traced", run["task.name"]);
        Assert.Equal(app, run["app.name"]);
        Assert.Equal(0L, run["process.exit.code"]);
        Assert.IsType<long>(run["process.pid"]);
        Assert.Equal("echo \"$TRACEPARENT\"", run["process.command_line"]);

        // The process got the run span's context, so its own spans would join the trace there.
        var line = Assert.Single(await platform.GetLogsAsync(taskId))!["line"]!.GetValue<string>();
        Assert.Equal($"00-{run.TraceId}-{run.SpanId}-01", line);

        // TaskStarted from the consume, TaskCompleted from the run, and the history writes in the run.
        Assert.Contains(trace, s => s.Kind == ExportedSpan.Producer && Destination(s).Contains("task-started") && Ancestors(trace, s).Contains(consume));
        var completed = Assert.Single(trace, s => s.Kind == ExportedSpan.Producer && Destination(s).Contains("task-completed"));
        Assert.Contains(run, Ancestors(trace, completed));
        var writes = trace.Where(s => s.Scope == "Npgsql" && Ancestors(trace, s).Contains(run)).ToList();
        Assert.NotEmpty(writes);
        Assert.All(writes, w => Assert.Equal("postgresql", w["db.system.name"] ?? w["db.system"]));
        Assert.Contains(trace, s => s.Scope == "Npgsql" && Ancestors(trace, s).Contains(claim));

        // Secrets are never span attributes, on any service.
        Assert.DoesNotContain(Receiver.Spans, s => s.Attributes.Values.Any(v => v.ToString()!.Contains(secret)));
    }

    [Fact]
    public async Task A_scheduled_occurrence_starts_its_own_trace_which_its_task_continues()
    {
        var app = await platform.RegisterAppAsync();
        var job = "job-" + Guid.NewGuid().ToString("N")[..8];
        (await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = job, command = "echo \"$TRACEPARENT\"" })).EnsureSuccessStatusCode();
        (await platform.Api.PostAsJsonAsync($"/v3/jobs/{job}/schedules", new { cron = "*/2 * * * * *", time_zone = "UTC" })).EnsureSuccessStatusCode();

        var fire = await Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s => s.Name == "job fire" && Equals(s["job.name"], job) && s["task.id"] is not null),
            "the Scheduler's firing span");
        var taskId = Guid.Parse((string)fire["task.id"]!);
        await platform.WaitForEndAsync(taskId);
        var traceparent = (await platform.GetLogsAsync(taskId)).First()!["line"]!.GetValue<string>();
        (await platform.Api.DeleteAsync($"/v3/jobs/{job}")).EnsureSuccessStatusCode(); // stops the firing

        Assert.StartsWith("Platform.Scheduler", fire.Service);
        Assert.True(string.IsNullOrEmpty(fire.ParentSpanId) || fire.ParentSpanId.Trim('0').Length == 0, "the firing continued another trace");
        Assert.Equal(app, fire["app.name"]);
        Assert.NotNull(fire["job.occurrence_at"]);
        Assert.NotNull(fire["job.schedule.id"]);
        var run = await Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s => s.Name == "task run" && Equals(s["task.id"], taskId.ToString())), "the task's run span");
        Assert.Equal(fire.TraceId, run.TraceId);
        Assert.StartsWith($"00-{fire.TraceId}-", traceparent);
    }

    [Fact]
    public async Task The_retention_deletion_a_task_caused_is_its_own_trace_linked_to_the_tasks_trace()
    {
        var app = await platform.RegisterAppAsync(retention: new { max_tasks = 1 });
        var first = await platform.RunTaskAsync(app);
        await platform.WaitForEndAsync(first);
        var second = await platform.RunTaskAsync(app);
        await platform.WaitForEndAsync(second);

        // The second completion puts the app over its limit: the first task is deleted.
        var secondRun = await Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s => s.Name == "task run" && Equals(s["task.id"], second.ToString())),
            "the second task's run span");
        var prune = await Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s =>
            s.Name == "retention prune" && Equals(s["app.name"], app) && s.Links.Any(l => l.TraceId == secondRun.TraceId)), "a prune linked to the second task's trace");
        Assert.Equal("Platform.Retention", prune.Service);
        Assert.NotEqual(secondRun.TraceId, prune.TraceId);
        Assert.Equal("", prune.ParentSpanId);
        // Its statements are in its trace. Spans come in export batches, so they are waited for too.
        await Receiver.WaitForAsync(r => r.Spans.FirstOrDefault(s =>
            s.TraceId == prune.TraceId && s.Scope == "Npgsql" && $"{s["db.query.text"]}".Contains("delete")), "the prune's delete statement, in the prune's trace");
        Assert.Equal(404, (int)(await platform.Api.GetAsync($"/v3/tasks/{first}")).StatusCode);
    }

    private static string Destination(ExportedSpan span) => span["messaging.destination.name"]?.ToString() ?? "";

    private static IEnumerable<ExportedSpan> Ancestors(IReadOnlyList<ExportedSpan> trace, ExportedSpan span)
    {
        for (var parent = trace.FirstOrDefault(s => s.SpanId == span.ParentSpanId); parent is not null;
             parent = trace.FirstOrDefault(s => s.SpanId == parent.ParentSpanId))
            yield return parent;
    }
}
