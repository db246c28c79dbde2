using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Audit;

/// <summary>
/// Changes to apps and jobs (documents, not event streams) are audit entries that name who made them
/// (<c>GET /v3/audit_events</c>), readable by any role of the space and by nobody else.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AuditEventsTests(PlatformFixture platform)
{
    [Fact]
    public async Task Every_change_to_an_app_and_its_job_is_an_audit_entry_naming_who_made_it_seen_only_in_its_space()
    {
        var space = await platform.CreateSpaceAsync();
        var (developerSubject, developerToken) = await platform.ServiceAccountAsync(space, "developer");
        var (supporterSubject, supporterToken) = await platform.ServiceAccountAsync(space, "supporter");
        using var developer = platform.Client(developerToken);
        using var supporter = platform.Client(supporterToken);
        var app = "app-" + Guid.NewGuid().ToString("N")[..10];
        var job = "job-" + Guid.NewGuid().ToString("N")[..10];

        await ExpectAsync(developer.PostAsJsonAsync("/v3/apps", new { name = app, space, command = "true" }));
        await ExpectAsync(developer.PatchAsJsonAsync($"/v3/apps/{app}", new { memory_in_mb = 128 }));
        await ExpectAsync(developer.PatchAsJsonAsync($"/v3/apps/{app}/environment_variables", new { var = new { A = "b" } }));
        await ExpectAsync(developer.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = job }));
        await ExpectAsync(developer.PatchAsJsonAsync($"/v3/jobs/{job}", new { command = "echo changed" }));
        var schedule = JsonNode.Parse(await (await ExpectAsync(developer.PostAsJsonAsync($"/v3/jobs/{job}/schedules", new { cron = "0 0 1 1 *" }))).Content.ReadAsStringAsync())!;
        await ExpectAsync(supporter.PostAsync($"/v3/jobs/{job}/actions/suspend", null));
        await ExpectAsync(supporter.PostAsync($"/v3/jobs/{job}/actions/resume", null));
        await ExpectAsync(developer.DeleteAsync($"/v3/jobs/{job}/schedules/{schedule["guid"]}"));
        await ExpectAsync(developer.DeleteAsync($"/v3/jobs/{job}"));
        await ExpectAsync(platform.Api.DeleteAsync($"/v3/apps/{app}"));

        var asAuditor = await platform.ClientForRoleAsync(space, "auditor");
        var entries = (await ListAsync(asAuditor, $"/v3/audit_events?space={space}&per_page=100")).AsEnumerable().Reverse().ToList();
        var developerActor = $"{developerSubject} (service_account)";
        var supporterActor = $"{supporterSubject} (service_account)";
        var expected = new[]
        {
            ("audit.app.create", "app", app, developerActor),
            ("audit.app.update", "app", app, developerActor),
            ("audit.app.environment_variables.update", "app", app, developerActor),
            ("audit.job.create", "job", job, developerActor),
            ("audit.job.update", "job", job, developerActor),
            ("audit.job.schedule.create", "job", job, developerActor),
            ("audit.job.suspend", "job", job, supporterActor),
            ("audit.job.resume", "job", job, supporterActor),
            ("audit.job.schedule.delete", "job", job, developerActor),
            ("audit.job.delete", "job", job, developerActor),
            ("audit.app.delete", "app", app, "service-account:admin (service_account)"),
        };
        Assert.Equal(expected, entries.Select(e => (
            e!["type"]!.GetValue<string>(), e["target"]!["type"]!.GetValue<string>(), e["target"]!["name"]!.GetValue<string>(), e["actor"]!.GetValue<string>())));
        Assert.All(entries, e => Assert.Equal(space, e!["space"]!.GetValue<string>()));
        Assert.Equal(4, (await ListAsync(asAuditor, $"/v3/audit_events?target_name={app}")).Count);

        // Another space's developer sees none of it, even when it names the space.
        using var stranger = await platform.ClientForRoleAsync(await platform.CreateSpaceAsync(), "developer");
        Assert.Empty(await ListAsync(stranger, $"/v3/audit_events?space={space}"));
        Assert.DoesNotContain(app, (await ListAsync(stranger, "/v3/audit_events?per_page=5000")).ToJsonString());
    }

    private static async Task<HttpResponseMessage> ExpectAsync(Task<HttpResponseMessage> sending)
    {
        var response = await sending;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    private static async Task<JsonArray> ListAsync(HttpClient client, string path) =>
        JsonNode.Parse(await (await ExpectAsync(client.GetAsync(path))).Content.ReadAsStringAsync())!["resources"]!.AsArray();
}
