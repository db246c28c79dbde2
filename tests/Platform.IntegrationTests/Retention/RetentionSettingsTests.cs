using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Retention;

[Collection(PlatformCollection.Name)]
public sealed class RetentionSettingsTests(PlatformFixture platform)
{
    [Fact]
    public async Task An_apps_retention_is_stored_and_shown_and_a_bad_one_is_refused_naming_each_field()
    {
        var name = "ret-" + Guid.NewGuid().ToString("N")[..10];

        var bad = await platform.Api.PostAsJsonAsync("/v3/apps",
            new { name, command = "true", retention = new { max_tasks = 0, max_age = "forever", max_log_bytes = 0 } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var errors = JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal(["retention.max_age", "retention.max_log_bytes", "retention.max_tasks"], errors.Select(e => e.Key).Order());
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/apps/{name}")).StatusCode);

        var good = await platform.Api.PostAsJsonAsync("/v3/apps", new { name, command = "true", retention = new { max_tasks = 50, max_age = "30d" } });
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        var shown = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{name}"))!["retention"]!;
        Assert.Equal(50, shown["max_tasks"]!.GetValue<int>());
        Assert.Equal("30d", shown["max_age"]!.GetValue<string>());
        Assert.Null(shown["max_log_bytes"]);
    }
}
