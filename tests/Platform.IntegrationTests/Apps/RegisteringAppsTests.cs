using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Platform.IntegrationTests.Tasks;

namespace Platform.IntegrationTests.Apps;

[Collection(PlatformCollection.Name)]
public sealed class RegisteringAppsTests(PlatformFixture platform)
{
    [Fact]
    public async Task A_registered_app_is_read_back_with_its_configuration()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..8];
        var created = await platform.Api.PostAsJsonAsync("/v3/apps", new
        {
            name, command = "bin/migrate", env = new Dictionary<string, string> { ["DATABASE_URL"] = "postgres://db" }, memory_in_mb = 512, disk_in_mb = 2048,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var app = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{name}"))!;
        Assert.Equal("bin/migrate", app["command"]!.GetValue<string>());
        Assert.Equal("postgres://db", app["env"]!["DATABASE_URL"]!.GetValue<string>());
        Assert.Equal(512, app["memory_in_mb"]!.GetValue<int>());
        Assert.Equal(2048, app["disk_in_mb"]!.GetValue<int>());
        var list = JsonNode.Parse(await platform.Api.GetStringAsync("/v3/apps?per_page=5000"))!;
        Assert.Contains(list["resources"]!.AsArray(), a => a!["name"]!.GetValue<string>() == name);
    }

    [Fact]
    public async Task A_second_app_with_the_same_name_is_a_conflict()
    {
        var name = await platform.RegisterAppAsync();
        var again = await platform.Api.PostAsJsonAsync("/v3/apps", new { name, command = "true" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Invalid_registrations_name_the_field()
    {
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new { command = "true" }), HttpStatusCode.UnprocessableEntity, "name");
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new { name = "Bad Name!" }), HttpStatusCode.UnprocessableEntity, "name");
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new { name = "ok-name", memory_in_mb = 0 }), HttpStatusCode.UnprocessableEntity, "memory_in_mb");
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new { name = "ok-name", env = new Dictionary<string, string> { ["1BAD"] = "x" } }), HttpStatusCode.UnprocessableEntity, "env");
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new { name = "ok-name", pids_limit = 1 }), HttpStatusCode.UnprocessableEntity, "pids_limit");
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new { name = "ok-name", network = new { egress = "wide" } }), HttpStatusCode.UnprocessableEntity, "network.egress");
        await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync("/v3/apps", new
        {
            name = "ok-name", network = new { egress = "restricted", allow = new[] { new { protocol = "tcp", destination = "10.0.0.1/8", ports = "443" } } },
        }), HttpStatusCode.UnprocessableEntity, "network.allow[0].destination");
        var malformed = await platform.Api.PostAsync("/v3/apps", new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync("/v3/apps/ok-name")).StatusCode);
    }

    [Fact]
    public async Task Every_service_reports_healthy_when_it_reaches_rabbitmq_and_postgresql()
    {
        foreach (var service in platform.Services)
        {
            using var client = new HttpClient { BaseAddress = service.BaseAddress };
            var response = await client.GetAsync("/healthz");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service.Service}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
