using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Platform.Api;
using Platform.IntegrationTests.Infrastructure;
using Platform.Messaging;
using Platform.ServiceDefaults;
using Platform.TaskStore;

namespace Platform.IntegrationTests.Access;

/// <summary>
/// OWASP API1 (broken object-level authorisation), walked over the Api's own route table, so that a route
/// added later is walked too: a caller with a role in another space, sending every route with the ids of
/// a victim space's app, task, job, schedule and role, gets exactly what it gets for ids that do not exist,
/// and the victim's objects are unchanged afterwards. Without a token, every route is a 401.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class ObjectLevelAccessTests(PlatformFixture platform)
{
    /// <summary>Every route of the Api, as mapped by the Api's own registration (nothing is started or connected).</summary>
    internal static IReadOnlyList<(string Method, string Template)> RouteTable()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddServiceDefaults();
        builder.AddTaskStore();
        builder.AddPlatformBus("api");
        builder.AddApi();
        var app = builder.Build();
        app.MapApi();
        return ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/v3", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => (m, e.RoutePattern.RawText!)))
            .ToList();
    }

    private sealed record Ids(string Space, string App, Guid Task, string Job, Guid Schedule, Guid Role);

    [Fact]
    public async Task A_caller_of_another_space_gets_from_every_route_what_it_gets_for_objects_that_do_not_exist()
    {
        var routes = RouteTable();
        Assert.True(routes.Count >= 40, $"the route table looks incomplete: {routes.Count} routes");

        // The victim: a space with an app (a secret, a command that prints a marker), a finished task, a job with a schedule, a role.
        var victimSpace = await platform.CreateSpaceAsync();
        var victimApp = await platform.RegisterAppAsync("echo victim-output-marker", space: victimSpace, secretEnv: new Dictionary<string, string> { ["TOKEN"] = "victim-secret-value" });
        var victimTask = await platform.RunTaskAsync(victimApp);
        await platform.WaitForEndAsync(victimTask);
        var victimJob = "job-" + Guid.NewGuid().ToString("N")[..10];
        (await platform.Api.PostAsJsonAsync($"/v3/apps/{victimApp}/jobs", new { name = victimJob })).EnsureSuccessStatusCode();
        var schedule = JsonNode.Parse(await (await platform.Api.PostAsJsonAsync($"/v3/jobs/{victimJob}/schedules", new { cron = "0 0 1 1 *" })).Content.ReadAsStringAsync())!;
        var (_, _) = await platform.ServiceAccountAsync(victimSpace, "developer");
        var roles = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/roles?space={victimSpace}"))!["resources"]!.AsArray();
        var victim = new Ids(victimSpace, victimApp, victimTask, victimJob, schedule["guid"]!.GetValue<Guid>(), roles[0]!["guid"]!.GetValue<Guid>());
        var before = await SnapshotAsync(victim);

        // The attacker: a developer of a space of its own, with an app there.
        var ownSpace = await platform.CreateSpaceAsync();
        using var attacker = await platform.ClientForRoleAsync(ownSpace, "developer");
        await platform.RegisterAppAsync(space: ownSpace);
        var ghost = new Ids("space-ghost" + Suffix(), "app-ghost" + Suffix(), Guid.NewGuid(), "job-ghost" + Suffix(), Guid.NewGuid(), Guid.NewGuid());

        var walked = new List<string>();
        foreach (var (method, template) in routes)
        foreach (var query in Variants(method, template))
        {
            var onVictim = await SendAsync(attacker, method, Fill(template, victim) + query, victim);
            var onGhost = await SendAsync(attacker, method, Fill(template, ghost) + query, ghost);
            var route = $"{method} {template}{query}";
            Assert.True(onVictim.Status == onGhost.Status, $"{route}: {onVictim.Status} for the victim's objects, {onGhost.Status} for objects that do not exist\n{onVictim.Body}");
            Assert.True((int)onVictim.Status is 401 or 403 or 404 || !template.Contains('{'), $"{route} answered {onVictim.Status} for another space's object");
            Assert.Equal(Normalise(onGhost.Body, ghost), Normalise(onVictim.Body, victim));
            foreach (var marker in new[] { "victim-output-marker", "victim-secret-value", victimApp, victimJob, victimTask.ToString(), victimSpace })
                Assert.False(onVictim.Body.Contains(marker, StringComparison.Ordinal) && !template.Contains('{') && method == "GET", $"{route} leaked '{marker}'");
            walked.Add(route);
        }

        Assert.Equal(before, await SnapshotAsync(victim));
        Assert.Contains("GET /v3/tasks/{guid:guid}/logs?follow=true", walked);
    }

    [Fact]
    public async Task Every_route_answers_401_without_a_token_and_healthz_and_metrics_stay_open()
    {
        using var anonymous = platform.Client(null);
        var ghost = new Ids("space-ghost", "app-ghost", Guid.NewGuid(), "job-ghost", Guid.NewGuid(), Guid.NewGuid());
        foreach (var (method, template) in RouteTable())
        {
            var answer = await SendAsync(anonymous, method, Fill(template, ghost), ghost);
            Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"{method} {template}: {answer.Status}");
        }
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    private static IEnumerable<string> Variants(string method, string template)
    {
        yield return "";
        if (method == "GET" && template.EndsWith("/logs", StringComparison.Ordinal)) yield return "?follow=true";
        if (method == "DELETE" && template == "/v3/apps/{name}") yield return "?force=true";
    }

    private static string Fill(string template, Ids ids) => RouteParameter().Replace(template, m => m.Groups[1].Value switch
    {
        "name" or "app" => ids.App,
        "space" => ids.Space,
        "job" => ids.Job,
        "id" => ids.Schedule.ToString(),
        "guid" when template.StartsWith("/v3/roles", StringComparison.Ordinal) => ids.Role.ToString(),
        "guid" => ids.Task.ToString(),
        "account" => "admin",
        var other => throw new InvalidOperationException($"The walk does not know route parameter '{other}' of {template}: teach it which object it names."),
    });

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient client, string method, string path, Ids ids)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PATCH" or "PUT")
            request.Content = JsonContent.Create(new Dictionary<string, object?>
            {
                ["name"] = "walk-" + Suffix(), ["space"] = ids.Space, ["command"] = "true", ["cron"] = "* * * * *",
                ["type"] = "developer", ["subject"] = "service-account:walker", ["var"] = new Dictionary<string, string> { ["A"] = "b" },
            });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }

    private static string Normalise(string body, Ids ids) => TraceId().Replace(body
        .Replace(ids.App, "<app>").Replace(ids.Job, "<job>").Replace(ids.Space, "<space>")
        .Replace(ids.Task.ToString(), "<guid>").Replace(ids.Role.ToString(), "<guid>").Replace(ids.Schedule.ToString(), "<id>"), "");

    /// <summary>What an admin sees of the victim's objects: the walk must not have changed any of it.</summary>
    private async Task<string> SnapshotAsync(Ids ids)
    {
        var parts = new List<string>();
        foreach (var path in new[] { $"/v3/apps/{ids.App}", $"/v3/apps/{ids.App}/environment_variables", $"/v3/tasks/{ids.Task}", $"/v3/jobs/{ids.Job}",
                     $"/v3/jobs/{ids.Job}/schedules", $"/v3/spaces/{ids.Space}", $"/v3/roles?space={ids.Space}", $"/v3/apps/{ids.App}/tasks" })
        {
            var response = await platform.Api.GetAsync(path);
            parts.Add($"{path} {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return string.Join("\n", parts);
    }

    [GeneratedRegex(@"\{(\w+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex("\"trace_?[iI]d\":\"[^\"]*\",?")]
    private static partial Regex TraceId();
}
