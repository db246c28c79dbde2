using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Tasks;

[Collection(PlatformCollection.Name)]
public sealed class RunningTasksTests(PlatformFixture platform)
{
    [Fact]
    public async Task A_task_runs_to_succeeded_and_its_output_is_readable_line_by_line()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo first; echo second >&2; echo third" });

        var task = await platform.WaitForEndAsync(id);

        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        Assert.Null(task["result"]!["failure_reason"]);
        var logs = await platform.GetLogsAsync(id);
        // stdout and stderr are separate pipes: order holds within each stream, not across them.
        string[] Lines(string stream) => logs.Where(l => l!["stream"]!.GetValue<string>() == stream).Select(l => l!["line"]!.GetValue<string>()).ToArray();
        Assert.Equal(["first", "third"], Lines("stdout"));
        Assert.Equal(["second"], Lines("stderr"));
        Assert.Equal([1L, 2L, 3L], logs.Select(l => l!["sequence"]!.GetValue<long>()));
        Assert.All(logs, l => Assert.True(l!["timestamp"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task A_failing_command_ends_failed_with_its_exit_code_in_the_reason()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo about to fail; exit 3" });

        var task = await platform.WaitForEndAsync(id);

        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Contains("exited with code 3", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Equal(3, task["result"]!["exit_code"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_task_inherits_the_apps_command_and_environment_and_its_own_variables_override()
    {
        var app = await platform.RegisterAppAsync(
            command: "echo \"$GREETING $TARGET from $PLATFORM_APP_NAME\"",
            env: new Dictionary<string, string> { ["GREETING"] = "hello", ["TARGET"] = "app" });

        var id = await platform.RunTaskAsync(app, new { env = new Dictionary<string, string> { ["TARGET"] = "task" } });

        var task = await platform.WaitForEndAsync(id);
        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        var logs = await platform.GetLogsAsync(id);
        Assert.Equal($"hello task from {app}", logs.Single()!["line"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_task_process_is_told_its_id_name_app_and_the_trace_that_started_it()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new
        {
            name = "report", command = "echo $PLATFORM_TASK_ID; echo $PLATFORM_TASK_NAME; echo $PLATFORM_APP_NAME; echo $PLATFORM_TASK_SEQUENCE_ID; echo $TRACEPARENT",
        });

        await platform.WaitForEndAsync(id);
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();

        Assert.Equal([id.ToString(), "report", app, "1"], lines.Take(4));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", lines[4]);
    }

    [Fact]
    public async Task The_task_process_does_not_see_the_executors_own_environment()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo \"password=[$RabbitMq__Password]\"; env | grep -c TaskStore || true" });

        await platform.WaitForEndAsync(id);
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();
        Assert.Equal(["password=[]", "0"], lines);
    }

    [Fact]
    public async Task Sequence_ids_count_up_per_app_and_the_list_is_newest_first_and_paginated()
    {
        var app = await platform.RegisterAppAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++) ids.Add(await platform.RunTaskAsync(app));
        foreach (var id in ids) await platform.WaitForEndAsync(id);

        var page1 = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/tasks?per_page=2"))!;
        var page2 = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/tasks?per_page=2&page=2"))!;

        Assert.Equal(3, page1["pagination"]!["total_results"]!.GetValue<long>());
        Assert.Equal(2, page1["pagination"]!["total_pages"]!.GetValue<long>());
        Assert.Equal([3L, 2L], page1["resources"]!.AsArray().Select(t => t!["sequence_id"]!.GetValue<long>()));
        Assert.Equal([1L], page2["resources"]!.AsArray().Select(t => t!["sequence_id"]!.GetValue<long>()));
        Assert.Equal(ids[0], page2["resources"]![0]!["guid"]!.GetValue<Guid>());
        Assert.NotNull(page1["pagination"]!["next"]);
        Assert.Null(page2["pagination"]!["next"]);
    }

    [Fact]
    public async Task A_task_without_a_name_gets_a_generated_one_and_a_given_name_is_kept()
    {
        var app = await platform.RegisterAppAsync();
        var unnamed = await platform.GetTaskAsync(await platform.RunTaskAsync(app));
        var named = await platform.GetTaskAsync(await platform.RunTaskAsync(app, new { name = "migrate" }));

        Assert.Matches("^[0-9a-f]{8}$", unnamed["name"]!.GetValue<string>());
        Assert.Equal("migrate", named["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Both_executors_take_work_from_the_same_queue()
    {
        var app = await platform.RegisterAppAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 8; i++) ids.Add(await platform.RunTaskAsync(app, new { command = "sleep 0.5" }));

        var executors = new HashSet<string>();
        foreach (var id in ids)
        {
            Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(id))["state"]!.GetValue<string>());
            var events = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{id}/events"))!["resources"]!.AsArray();
            executors.Add(events.Single(e => e!["type"]!.GetValue<string>() == "task_claimed")!["data"]!["executor"]!.GetValue<string>());
        }
        Assert.Equal([PlatformFixture.ExecutorA, PlatformFixture.ExecutorB], executors.Order());
    }

    [Fact]
    public async Task A_tasks_history_is_its_marten_stream_read_back_in_order()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "exit 0" });
        await platform.WaitForEndAsync(id);

        await using var database = platform.OpenDatabase();
        await using var command = database.CreateCommand(
            $"select version, type from {platform.Isolation}.mt_events where stream_id = $1 order by version");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
        var stored = new List<(long, string)>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) stored.Add((reader.GetInt64(0), reader.GetString(1)));

        Assert.Equal([(1L, "task_accepted"), (2L, "task_claimed"), (3L, "task_succeeded")], stored);
        var api = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{id}/events"))!["resources"]!.AsArray();
        Assert.Equal(stored.Select(s => s.Item2), api.Select(e => e!["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Bad_task_requests_get_a_problem_that_names_the_field_and_write_nothing()
    {
        var app = await platform.RegisterAppAsync(command: "");

        var noCommand = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
        var tooLong = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { command = new string('x', 4097) });
        var negative = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { command = "true", memory_in_mb = -1 });
        var absurd = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { command = "true", disk_in_mb = int.MaxValue });
        var malformed = await platform.Api.PostAsync($"/v3/apps/{app}/tasks",
            new StringContent("{\"command\": \"true\", \"memory_in_mb\": \"lots\"}", System.Text.Encoding.UTF8, "application/json"));
        var unknownApp = await platform.Api.PostAsJsonAsync("/v3/apps/no-such-app/tasks", new { command = "true" });

        await AssertProblem(noCommand, HttpStatusCode.UnprocessableEntity, "command");
        await AssertProblem(tooLong, HttpStatusCode.UnprocessableEntity, "command");
        await AssertProblem(negative, HttpStatusCode.UnprocessableEntity, "memory_in_mb");
        await AssertProblem(absurd, HttpStatusCode.UnprocessableEntity, "disk_in_mb");
        await AssertProblem(malformed, HttpStatusCode.BadRequest, "memory_in_mb");
        Assert.Equal(HttpStatusCode.NotFound, unknownApp.StatusCode);
        Assert.Equal("application/problem+json", unknownApp.Content.Headers.ContentType?.MediaType);

        var list = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/tasks"))!;
        Assert.Equal(0, list["pagination"]!["total_results"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_unknown_task_is_a_404_problem()
    {
        var response = await platform.Api.GetAsync($"/v3/tasks/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    internal static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected an error for '{field}': {body}");
    }
}
