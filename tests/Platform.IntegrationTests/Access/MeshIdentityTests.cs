using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Access;

/// <summary>
/// Trust of a service mesh's workload identity (Access:Mesh), end to end on a real Api: the identity a
/// sidecar puts on the request (Istio's x-forwarded-client-cert SPIFFE URI, Linkerd's l5d-client-id) is the
/// caller when trust is on, is held to its roles like any subject, and is ignored when trust is off.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class MeshIdentityTests(PlatformFixture platform)
{
    [Fact]
    public async Task Istio_client_certificate_identity_is_the_caller_when_mesh_trust_is_on_and_held_to_its_roles()
    {
        var (space, app, bound, unbound) = await BindAsync("spiffe://cluster.local/ns/ci/sa/runner-");
        var api = await platform.StartAsync("Api", ("Access__Mesh__Enabled", "true"), ("Access__Mesh__Kind", "Istio"));
        try
        {
            static string Xfcc(string uri) => $"By=spiffe://cluster.local/ns/platform/sa/api;Hash=3f1c;Subject=\"\";URI={uri}";
            await AssertHeldToRolesAsync(api, space, app, "x-forwarded-client-cert", Xfcc(bound), Xfcc(unbound), bound);
            // Linkerd's header means nothing to an Api that trusts Istio's.
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(api, HttpMethod.Get, $"/v3/apps/{app}", "l5d-client-id", bound)).StatusCode);
        }
        finally
        {
            await platform.StopAsync(api);
        }
    }

    [Fact]
    public async Task Linkerd_client_id_is_the_caller_when_mesh_trust_is_on_and_held_to_its_roles()
    {
        var (space, app, bound, unbound) = await BindAsync("runner-");
        bound += ".ci.serviceaccount.identity.linkerd.cluster.local";
        unbound += ".ci.serviceaccount.identity.linkerd.cluster.local";
        await BindRoleAsync("mesh:" + bound, space);
        var api = await platform.StartAsync("Api", ("Access__Mesh__Enabled", "true"), ("Access__Mesh__Kind", "Linkerd"));
        try
        {
            await AssertHeldToRolesAsync(api, space, app, "l5d-client-id", bound, unbound, bound);
        }
        finally
        {
            await platform.StopAsync(api);
        }
    }

    [Fact]
    public async Task With_mesh_trust_off_the_mesh_headers_are_ignored()
    {
        var (_, app, bound, _) = await BindAsync("spiffe://cluster.local/ns/ci/sa/runner-");
        // The fixture's Api runs with the default: Access:Mesh:Enabled=false.
        foreach (var (header, value) in new[] { ("x-forwarded-client-cert", $"URI={bound}"), ("l5d-client-id", bound) })
        {
            var response = await SendAsync(platform.ApiProcess, HttpMethod.Get, $"/v3/apps/{app}", header, value);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("bearer token is required", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>
    /// A bound identity gets 200 and may do what its role allows; it is recorded as who created a task; an
    /// identity with no role in the space gets the same 404 as for an app that does not exist, and 403 where
    /// only an admin may; no header at all is a 401.
    /// </summary>
    private async Task AssertHeldToRolesAsync(ServiceProcess api, string space, string app, string header, string boundValue, string unboundValue, string boundIdentity)
    {
        var me = await SendAsync(api, HttpMethod.Get, "/v3/me", header, boundValue);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var whoAmI = JsonNode.Parse(await me.Content.ReadAsStringAsync())!;
        Assert.Equal("mesh:" + boundIdentity, whoAmI["subject"]!.GetValue<string>());
        Assert.Equal("mesh", whoAmI["means"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(api, HttpMethod.Get, $"/v3/apps/{app}", header, boundValue)).StatusCode);
        var created = await SendAsync(api, HttpMethod.Post, $"/v3/apps/{app}/tasks", header, boundValue, new { });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var task = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["guid"]!.GetValue<Guid>();
        var events = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{task}/events"))!["resources"]!.AsArray();
        Assert.Equal($"mesh:{boundIdentity} (mesh)", events[0]!["by"]!.GetValue<string>());
        // A developer, not an admin.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(api, HttpMethod.Post, "/v3/spaces", header, boundValue, new { name = "mesh-made" })).StatusCode);

        var unboundApp = await SendAsync(api, HttpMethod.Get, $"/v3/apps/{app}", header, unboundValue);
        Assert.Equal(HttpStatusCode.NotFound, unboundApp.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(api, HttpMethod.Get, $"/v3/apps/app-ghost-{Guid.NewGuid():N}", header, unboundValue)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(api, HttpMethod.Post, $"/v3/apps/{app}/tasks", header, unboundValue, new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(api, HttpMethod.Post, "/v3/spaces", header, unboundValue, new { name = "mesh-made" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(api, HttpMethod.Get, $"/v3/apps/{app}", null, null)).StatusCode);
        await platform.WaitForEndAsync(task);
        _ = space;
    }

    /// <summary>A space with an app, and two identities with <paramref name="prefix"/>: the first bound as a developer there (for Istio), the second bound nowhere.</summary>
    private async Task<(string Space, string App, string Bound, string Unbound)> BindAsync(string prefix)
    {
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync(space: space);
        var bound = prefix + Guid.NewGuid().ToString("N")[..8];
        var unbound = prefix + Guid.NewGuid().ToString("N")[..8];
        if (prefix.StartsWith("spiffe://", StringComparison.Ordinal)) await BindRoleAsync("mesh:" + bound, space);
        return (space, app, bound, unbound);
    }

    private async Task BindRoleAsync(string subject, string space)
    {
        var response = await platform.Api.PostAsJsonAsync("/v3/roles", new { type = "developer", subject, space });
        Assert.True(response.IsSuccessStatusCode, $"bind role: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<HttpResponseMessage> SendAsync(ServiceProcess api, HttpMethod method, string path, string? header, string? value, object? body = null)
    {
        using var client = platform.Client(null, api);
        using var request = new HttpRequestMessage(method, path);
        if (header is not null) request.Headers.TryAddWithoutValidation(header, value);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await client.SendAsync(request);
    }
}
