using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Platform.IntegrationTests.Tasks;

namespace Platform.IntegrationTests.Apps;

[Collection(PlatformCollection.Name)]
public sealed class AppLifecycleTests(PlatformFixture platform)
{
    private async Task<JsonNode> PatchAsync(string path, object body)
    {
        var response = await platform.Api.PatchAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Changing_an_app_changes_what_its_next_tasks_inherit()
    {
        var app = await platform.RegisterAppAsync(command: "echo old");
        await PatchAsync($"/v3/apps/{app}", new { command = "echo \"new $LEVEL $MODE\"", memory_in_mb = 128 });
        var env = await PatchAsync($"/v3/apps/{app}/environment_variables", new { var = new Dictionary<string, string> { ["LEVEL"] = "debug", ["MODE"] = "batch" } });
        Assert.Equal("debug", env["var"]!["LEVEL"]!.GetValue<string>());
        env = await PatchAsync($"/v3/apps/{app}/environment_variables", new Dictionary<string, object> { ["var"] = new Dictionary<string, string?> { ["MODE"] = null } });
        Assert.False(env["var"]!.AsObject().ContainsKey("MODE"));

        var id = await platform.RunTaskAsync(app);
        var task = await platform.WaitForEndAsync(id);

        Assert.Equal(128, task["memory_in_mb"]!.GetValue<int>());
        Assert.Equal("new debug ", (await platform.GetLogsAsync(id)).Single()!["line"]!.GetValue<string>());
        var read = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/environment_variables"))!;
        Assert.Equal("debug", read["var"]!["LEVEL"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_secret_reaches_the_task_and_appears_nowhere_in_api_output_or_platform_logs()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..10];
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var created = await platform.Api.PostAsJsonAsync("/v3/apps", new
        {
            name, command = $"[ \"$DB_PASSWORD\" = \"$EXPECTED\" ] && echo secret-delivered || echo secret-missing",
            secret_env = new Dictionary<string, string> { ["DB_PASSWORD"] = secret },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // The expected value comes in through the task's own variable, so the command never holds the secret itself.
        var id = await platform.RunTaskAsync(name, new { env = new Dictionary<string, string> { ["EXPECTED"] = secret } });
        await platform.WaitForEndAsync(id);

        Assert.Equal("secret-delivered", (await platform.GetLogsAsync(id)).Single()!["line"]!.GetValue<string>());
        var app = await platform.Api.GetStringAsync($"/v3/apps/{name}");
        Assert.Equal(["DB_PASSWORD"], JsonNode.Parse(app)!["secret_env"]!.AsArray().Select(n => n!.GetValue<string>()));
        foreach (var output in new[] { await created.Content.ReadAsStringAsync(), app, await platform.Api.GetStringAsync("/v3/apps?per_page=5000"),
                     await platform.Api.GetStringAsync($"/v3/apps/{name}/environment_variables") })
            Assert.DoesNotContain(secret, output);
        await Task.Delay(500); // let the services flush their log files
        foreach (var service in platform.Services)
            Assert.DoesNotContain(secret, service.Tail(int.MaxValue));
    }

    [Fact]
    public async Task An_app_with_a_running_task_is_only_deleted_when_forced_and_then_its_tasks_are_terminated_and_removed()
    {
        var app = await platform.RegisterAppAsync();
        var finished = await platform.RunTaskAsync(app, new { command = "echo done" });
        await platform.WaitForEndAsync(finished);
        var running = await platform.RunTaskAsync(app, new { command = "sleep 60", termination_grace_period_seconds = 1 });
        for (var i = 0; i < 100 && (await platform.GetTaskAsync(running))["state"]!.GetValue<string>() != "RUNNING"; i++) await Task.Delay(50);

        var refused = await platform.Api.DeleteAsync($"/v3/apps/{app}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("RUNNING", (await platform.GetTaskAsync(running))["state"]!.GetValue<string>());

        var forced = await platform.Api.DeleteAsync($"/v3/apps/{app}?force=true");
        Assert.Equal(HttpStatusCode.NoContent, forced.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/apps/{app}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/tasks/{running}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/tasks/{finished}")).StatusCode);
        await using var database = platform.OpenDatabase();
        await using var command = database.CreateCommand(
            $"select (select count(*) from {platform.Isolation}.mt_events where stream_id = any($1)) + (select count(*) from {platform.Isolation}.task_logs where task_id = any($1))");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = new[] { running, finished } });
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Retention_limits_are_changed_with_patch_and_bad_ones_name_their_field()
    {
        var app = await platform.RegisterAppAsync();

        var changed = await PatchAsync($"/v3/apps/{app}", new { retention = new { max_tasks = 50, max_age = "30d" } });

        Assert.Equal(50, changed["retention"]!["max_tasks"]!.GetValue<int>());
        Assert.Equal("30d", JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}"))!["retention"]!["max_age"]!.GetValue<string>());
        await RunningTasksTests.AssertProblem(await platform.Api.PatchAsJsonAsync($"/v3/apps/{app}", new { retention = new { max_tasks = 0 } }),
            HttpStatusCode.UnprocessableEntity, "retention.max_tasks");
    }

    [Fact]
    public async Task Bad_changes_name_their_field_and_unknown_apps_are_404()
    {
        var app = await platform.RegisterAppAsync();
        await RunningTasksTests.AssertProblem(await platform.Api.PatchAsJsonAsync($"/v3/apps/{app}", new { memory_in_mb = -5 }), HttpStatusCode.UnprocessableEntity, "memory_in_mb");
        await RunningTasksTests.AssertProblem(await platform.Api.PatchAsJsonAsync($"/v3/apps/{app}/environment_variables", new { var = new Dictionary<string, string> { ["9X"] = "1" } }), HttpStatusCode.UnprocessableEntity, "var");
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.PatchAsJsonAsync("/v3/apps/no-such-app", new { command = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.DeleteAsync("/v3/apps/no-such-app")).StatusCode);
    }
}
