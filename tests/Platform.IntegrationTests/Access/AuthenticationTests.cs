using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore;
using Platform.TaskStore.Access;

namespace Platform.IntegrationTests.Access;

/// <summary>Bearer tokens: Platform's own (issued, hashed, revoked, expired) and the identity provider's JWTs, and every way one is refused.</summary>
[Collection(PlatformCollection.Name)]
public sealed class AuthenticationTests(PlatformFixture platform)
{
    [Fact]
    public async Task A_missing_or_bad_token_is_a_401_with_www_authenticate_and_a_problem_that_says_why_without_the_token()
    {
        using var anonymous = platform.Client(null);
        var missing = await anonymous.GetAsync("/v3/apps");
        await AssertUnauthorizedAsync(missing, "bearer token is required", null);
        Assert.Equal("Bearer realm=\"platform\"", missing.Headers.WwwAuthenticate.ToString());

        var forged = "plat_" + Guid.NewGuid().ToString("N") + "_not-the-secret";
        using var forger = platform.Client(forged);
        await AssertUnauthorizedAsync(await forger.GetAsync("/v3/apps"), "unknown", forged);

        using var garbage = platform.Client("eyJhbGciOiJub25lIn0.e30.");
        await AssertUnauthorizedAsync(await garbage.GetAsync("/v3/apps"), "no identity provider", "eyJhbGciOiJub25lIn0");
    }

    [Fact]
    public async Task A_service_account_token_works_until_it_is_revoked_and_is_refused_once_expired()
    {
        var space = await platform.CreateSpaceAsync();
        var (subject, token) = await platform.ServiceAccountAsync(space, "developer");
        var account = subject["service-account:".Length..];
        using var client = platform.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v3/apps")).StatusCode);

        // Only a hash is stored: the token itself is nowhere in the store.
        await using (var store = DocumentStore.For(o => TaskStoreRegistration.ConfigureStore(ConfigureConnection(o), platform.Isolation)))
        await using (var query = store.QuerySession())
        {
            var stored = await query.Query<AccessToken>().Where(t => t.Account == account).ToListAsync();
            Assert.Single(stored);
            Assert.DoesNotContain(token.Split('_')[^1], JsonSerializer.Serialize(stored));
        }

        var tokens = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/service_accounts/{account}/tokens"))!["resources"]!.AsArray();
        Assert.Null(tokens[0]!["token"]);
        var guid = tokens[0]!["guid"]!.GetValue<Guid>();
        Assert.Equal(HttpStatusCode.NoContent, (await platform.Api.DeleteAsync($"/v3/service_accounts/{account}/tokens/{guid}")).StatusCode);
        await AssertUnauthorizedAsync(await client.GetAsync("/v3/apps"), "revoked", token);

        // An expired token, written as the Api would have issued it a year ago.
        await using (var store = DocumentStore.For(o => TaskStoreRegistration.ConfigureStore(ConfigureConnection(o), platform.Isolation)))
        await using (var session = store.LightweightSession())
        {
            var (old, oldToken) = AccessToken.Issue(account, DateTimeOffset.UtcNow.AddDays(-365), TimeSpan.FromDays(30), "test");
            session.Insert(old);
            await session.SaveChangesAsync();
            using var expired = platform.Client(oldToken);
            await AssertUnauthorizedAsync(await expired.GetAsync("/v3/apps"), "expired", oldToken);
        }
    }

    [Fact]
    public async Task A_jwt_of_the_configured_issuer_is_accepted_for_its_users_roles_and_refused_when_expired_for_another_audience_or_issuer()
    {
        using var rsa = RSA.Create(2048);
        var api = await platform.StartAsync("Api",
            ("Access__Jwt__Issuer", "https://idp.example.test"),
            ("Access__Jwt__Audiences__0", "platform"),
            ("Access__Jwt__SigningKeys__0", rsa.ExportSubjectPublicKeyInfoPem()));
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync(space: space);
        (await platform.Api.PostAsJsonAsync("/v3/roles", new { type = "developer", subject = "user:alice", space })).EnsureSuccessStatusCode();

        var now = DateTimeOffset.UtcNow;
        var good = Jwt(rsa, "https://idp.example.test", "platform", "alice", now.AddMinutes(5));
        using (var alice = platform.Client(good, api))
        {
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/v3/apps/{app}")).StatusCode);
            Assert.Equal("user:alice", JsonNode.Parse(await alice.GetStringAsync("/v3/me"))!["subject"]!.GetValue<string>());
        }
        using (var bob = platform.Client(Jwt(rsa, "https://idp.example.test", "platform", "bob", now.AddMinutes(5)), api))
            Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/v3/apps/{app}")).StatusCode);

        var expired = Jwt(rsa, "https://idp.example.test", "platform", "alice", now.AddMinutes(-5));
        var otherAudience = Jwt(rsa, "https://idp.example.test", "billing", "alice", now.AddMinutes(5));
        var otherIssuer = Jwt(rsa, "https://evil.example.test", "platform", "alice", now.AddMinutes(5));
        using var otherKey = RSA.Create(2048);
        var forged = Jwt(otherKey, "https://idp.example.test", "platform", "alice", now.AddMinutes(5));
        foreach (var (token, reason) in new[] { (expired, "expired"), (otherAudience, "audience"), (otherIssuer, "issuer"), (forged, "signature") })
        {
            using var client = platform.Client(token, api);
            await AssertUnauthorizedAsync(await client.GetAsync($"/v3/apps/{app}"), reason, token.Split('.')[1]);
        }
        await platform.StopAsync(api);
    }

    [Fact]
    public async Task A_jwt_is_checked_against_the_key_set_at_a_configured_jwks_address_without_a_discovery_document()
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = "key-1", n = Base64Url(parameters.Modulus!), e = Base64Url(parameters.Exponent!) } },
        });
        using var identityProvider = new LoopbackHttpServer(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(jwks));
        });
        var api = await platform.StartAsync("Api",
            ("Access__Jwt__Issuer", "https://idp.example.test"),
            ("Access__Jwt__Audiences__0", "platform"),
            ("Access__Jwt__JwksUri", $"{identityProvider.Url}/keys.json"));
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync(space: space);
        (await platform.Api.PostAsJsonAsync("/v3/roles", new { type = "developer", subject = "user:carol", space })).EnsureSuccessStatusCode();

        var now = DateTimeOffset.UtcNow;
        using (var carol = platform.Client(Jwt(rsa, "https://idp.example.test", "platform", "carol", now.AddMinutes(5)), api))
            Assert.Equal(HttpStatusCode.OK, (await carol.GetAsync($"/v3/apps/{app}")).StatusCode);
        using var otherKey = RSA.Create(2048);
        var forged = Jwt(otherKey, "https://idp.example.test", "platform", "carol", now.AddMinutes(5));
        using (var forger = platform.Client(forged, api))
            await AssertUnauthorizedAsync(await forger.GetAsync($"/v3/apps/{app}"), "signature", forged.Split('.')[1]);
        await platform.StopAsync(api);

        Assert.True(identityProvider.Requests > 0, "the key set was never fetched: the accepted token proves nothing about the JWKS address");
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Fact]
    public async Task Callers_are_rate_limited_with_429_and_retry_after_and_bodies_and_unfinished_tasks_are_capped()
    {
        var api = await platform.StartAsync("Api",
            ("Access__Limits__RequestsPerSecond", "2"), ("Access__Limits__Burst", "5"),
            ("Access__Limits__MaxUnfinishedTasksPerApp", "1"), ("Access__Limits__MaxRequestBodyBytes", "4096"));
        using var client = platform.Client(platform.AdminToken, api);
        // 30 at once against a bucket of 5 that refills 2 a second: most must be refused.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => client.GetAsync("/v3/apps?per_page=1")));
        Assert.InRange(statuses.Count(r => r.StatusCode == HttpStatusCode.OK), 5, 12);
        var limited = statuses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        // Another caller is not limited by the first one's use.
        using var other = platform.Client(await AnotherAdminTokenAsync(), api);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/v3/apps?per_page=1")).StatusCode);

        await Task.Delay(3000);
        var big = await client.PostAsync("/v3/apps", new StringContent("{\"name\":\"" + new string('a', 10_000) + "\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);

        await Task.Delay(3000);
        var app = await platform.RegisterAppAsync("sleep 30");
        var first = await client.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var second = await client.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        var problem = JsonNode.Parse(await second.Content.ReadAsStringAsync())!;
        Assert.Contains("MaxUnfinishedTasksPerApp", problem["errors"]!["limit"]![0]!.GetValue<string>());
        await platform.StopAsync(api);
        await platform.Api.PostAsync($"/v3/tasks/{JsonNode.Parse(await first.Content.ReadAsStringAsync())!["guid"]}/actions/cancel", null);
    }

    private async Task<string> AnotherAdminTokenAsync() => (await platform.ServiceAccountAsync(null, "admin")).Token;

    private StoreOptions ConfigureConnection(StoreOptions options)
    {
        options.Connection(platform.Servers.PostgresConnectionString);
        return options;
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response, string reason, string? secret)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Bearer realm=\"platform\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains(reason, JsonNode.Parse(body)!["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        if (secret is not null)
        {
            Assert.DoesNotContain(secret, body);
            Assert.DoesNotContain(secret, response.Headers.WwwAuthenticate.ToString());
        }
    }

    /// <summary>An RS256 JWT, written by hand so the test needs no token library.</summary>
    private static string Jwt(RSA key, string issuer, string audience, string subject, DateTimeOffset expires)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = issuer, ["aud"] = audience, ["sub"] = subject,
            ["exp"] = expires.ToUnixTimeSeconds(), ["nbf"] = expires.AddMinutes(-30).ToUnixTimeSeconds(), ["iat"] = expires.AddMinutes(-30).ToUnixTimeSeconds(),
        }));
        var signature = key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }
}
