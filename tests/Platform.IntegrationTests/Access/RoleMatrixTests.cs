using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Access;

/// <summary>The README's endpoint × role matrix, call by call, on the real Api: what each role may do in its space, and what it sees.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RoleMatrixTests(PlatformFixture platform)
{
    private const string Hidden = "[PRIVATE DATA HIDDEN]";

    /// <summary>One call of the matrix and the status each role gets: developer, supporter, auditor.</summary>
    private sealed record Call(string Method, string Path, object? Body, int Developer, int Supporter, int Auditor);

    [Fact]
    public async Task Each_role_is_allowed_and_refused_what_the_matrix_says()
    {
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync("echo secret-command", env: new Dictionary<string, string> { ["LEVEL"] = "debug-value" }, space: space, secretEnv: new Dictionary<string, string> { ["KEY"] = "k" });
        var task = await platform.RunTaskAsync(app);
        await platform.WaitForEndAsync(task);
        var job = "job-" + Guid.NewGuid().ToString("N")[..10];
        (await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = job, command = "echo job-command" })).EnsureSuccessStatusCode();

        var calls = new Call[]
        {
            new("GET", $"/v3/apps/{app}", null, 200, 200, 200),
            new("GET", $"/v3/apps/{app}/tasks", null, 200, 200, 200),
            new("GET", $"/v3/tasks/{task}", null, 200, 200, 200),
            new("GET", $"/v3/tasks/{task}/events", null, 200, 200, 200),
            new("GET", $"/v3/tasks/{task}/logs", null, 200, 200, 403),
            new("GET", $"/v3/apps/{app}/logs", null, 200, 200, 403),
            new("GET", $"/v3/apps/{app}/environment_variables", null, 200, 403, 403),
            new("GET", $"/v3/jobs/{job}", null, 200, 200, 200),
            new("GET", $"/v3/jobs/{job}/occurrences", null, 200, 200, 200),
            new("GET", $"/v3/audit_events?space={space}", null, 200, 200, 200),
            new("PATCH", $"/v3/apps/{app}", new { memory_in_mb = 128 }, 200, 403, 403),
            new("PATCH", $"/v3/apps/{app}/environment_variables", new { var = new Dictionary<string, string> { ["B"] = "c" } }, 200, 403, 403),
            new("POST", $"/v3/apps/{app}/tasks", new { command = "true" }, 202, 403, 403),
            // An ended task: allowed callers get the state rule's 422, the others the role's 403.
            new("POST", $"/v3/tasks/{task}/actions/cancel", null, 422, 422, 403),
            new("POST", $"/v3/jobs/{job}/actions/suspend", null, 200, 200, 403),
            new("POST", $"/v3/jobs/{job}/actions/resume", null, 200, 200, 403),
            new("POST", $"/v3/jobs/{job}/actions/run", null, 202, 202, 403),
            new("PATCH", $"/v3/jobs/{job}", new { command = "echo changed" }, 200, 403, 403),
            new("POST", $"/v3/jobs/{job}/schedules", new { cron = "0 0 1 1 *" }, 201, 403, 403),
            new("POST", $"/v3/apps/{app}/jobs", new { name = "j" + Guid.NewGuid().ToString("N")[..8] }, 201, 403, 403),
            new("POST", "/v3/spaces", new { name = "s" + Guid.NewGuid().ToString("N")[..8] }, 403, 403, 403),
            new("POST", "/v3/roles", new { type = "developer", subject = "user:someone", space }, 403, 403, 403),
            new("GET", "/v3/service_accounts", null, 403, 403, 403),
        };

        var roles = new[] { "developer", "supporter", "auditor" };
        var clients = new Dictionary<string, HttpClient>();
        foreach (var role in roles) clients[role] = await platform.ClientForRoleAsync(space, role);
        var failures = new List<string>();
        foreach (var call in calls)
        foreach (var role in roles)
        {
            var expected = role switch { "developer" => call.Developer, "supporter" => call.Supporter, _ => call.Auditor };
            // Each role gets its own copy of a create, so that the second one is not a conflict.
            var body = call.Body;
            using var request = new HttpRequestMessage(new HttpMethod(call.Method), call.Path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await clients[role].SendAsync(request);
            if ((int)response.StatusCode != expected && !(call.Path.EndsWith("/jobs") && (int)response.StatusCode == 409 && expected == 201))
                failures.Add($"{role} {call.Method} {call.Path}: {(int)response.StatusCode}, expected {expected}: {await response.Content.ReadAsStringAsync()}");
            if ((int)response.StatusCode == 403) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // What each role sees of the same objects.
        var asDeveloper = await GetAsync(clients["developer"], $"/v3/apps/{app}");
        var asSupporter = await GetAsync(clients["supporter"], $"/v3/apps/{app}");
        var asAuditor = await GetAsync(clients["auditor"], $"/v3/apps/{app}");
        Assert.Equal("echo secret-command", asDeveloper["command"]!.GetValue<string>());
        Assert.Equal("debug-value", asDeveloper["env"]!["LEVEL"]!.GetValue<string>());
        Assert.Equal(Hidden, asSupporter["command"]!.GetValue<string>());
        Assert.Equal(Hidden, asSupporter["env"]!["LEVEL"]!.GetValue<string>());
        Assert.Equal("KEY", asSupporter["secret_env"]![0]!.GetValue<string>());
        Assert.Equal(Hidden, asAuditor["command"]!.GetValue<string>());
        Assert.Empty(asAuditor["env"]!.AsObject());
        Assert.Empty(asAuditor["secret_env"]!.AsArray());
        Assert.Equal(Hidden, (await GetAsync(clients["auditor"], $"/v3/tasks/{task}"))["command"]!.GetValue<string>());
        Assert.Equal("echo secret-command", (await GetAsync(clients["developer"], $"/v3/tasks/{task}"))["command"]!.GetValue<string>());
        var events = (await GetAsync(clients["supporter"], $"/v3/tasks/{task}/events"))["resources"]!.AsArray();
        Assert.Equal(Hidden, events[0]!["data"]!["command"]!.GetValue<string>());
        Assert.Equal(Hidden, (await GetAsync(clients["auditor"], $"/v3/jobs/{job}"))["command"]!.GetValue<string>());

        // A developer's delete of an app of its space; a supporter's is refused.
        var doomed = await platform.RegisterAppAsync(space: space);
        Assert.Equal(HttpStatusCode.Forbidden, (await clients["supporter"].DeleteAsync($"/v3/apps/{doomed}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await clients["developer"].DeleteAsync($"/v3/apps/{doomed}")).StatusCode);
        foreach (var client in clients.Values) client.Dispose();
    }

    [Fact]
    public async Task An_auditor_reads_logs_only_where_the_space_allows_it_and_lists_show_only_its_spaces()
    {
        var open = await platform.CreateSpaceAsync(auditorsReadLogs: true);
        var closed = await platform.CreateSpaceAsync();
        var openApp = await platform.RegisterAppAsync("echo hello", space: open);
        var closedApp = await platform.RegisterAppAsync("echo hello", space: closed);
        var openTask = await platform.RunTaskAsync(openApp);
        await platform.WaitForEndAsync(openTask);
        var (subject, token) = await platform.ServiceAccountAsync(open, "auditor");
        (await platform.Api.PostAsJsonAsync("/v3/roles", new { type = "auditor", subject, space = closed })).EnsureSuccessStatusCode();
        using var auditor = platform.Client(token);

        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync($"/v3/tasks/{openTask}/logs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.GetAsync($"/v3/apps/{closedApp}/logs")).StatusCode);

        // A developer of one space lists its apps and jobs, none of another space's; the admin lists all.
        using var developer = await platform.ClientForRoleAsync(open, "developer");
        var names = (await GetAsync(developer, "/v3/apps?per_page=5000"))["resources"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ToList();
        Assert.Contains(openApp, names);
        Assert.DoesNotContain(closedApp, names);
        var all = (await GetAsync(platform.Api, "/v3/apps?per_page=5000"))["resources"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ToList();
        Assert.Contains(closedApp, all);
        var me = await GetAsync(developer, "/v3/me");
        Assert.Equal("developer", me["spaces"]![open]!.GetValue<string>());
        Assert.Equal("service_account", me["means"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_history_of_a_task_records_who_created_it()
    {
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync(space: space);
        var (subject, token) = await platform.ServiceAccountAsync(space, "developer");
        using var developer = platform.Client(token);
        var created = await developer.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["guid"]!.GetValue<Guid>();
        await platform.WaitForEndAsync(id);

        var events = (await GetAsync(platform.Api, $"/v3/tasks/{id}/events"))["resources"]!.AsArray();
        Assert.Equal($"{subject} (service_account)", events[0]!["by"]!.GetValue<string>());
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
