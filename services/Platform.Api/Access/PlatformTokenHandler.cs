using System.Security.Claims;
using System.Text.Encodings.Web;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>
/// The Api's one authentication scheme: a <c>Bearer</c> token that Platform issued (<c>plat_...</c>) is
/// checked here against its stored hash; any other bearer token goes to the identity provider's JWT
/// validation when one is configured; with no <c>Authorization</c> header, the mesh's workload identity is
/// trusted when an operator switched that on. Its challenge is every 401: <c>WWW-Authenticate</c> and a
/// problem body that says why, never echoing the token.
/// </summary>
internal sealed class PlatformTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder,
    IDocumentStore store, IMemoryCache cache, IOptions<AccessOptions> access, TimeProvider clock, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    public const string SchemeName = "Platform";
    public const string JwtScheme = "Jwt";
    public const string MeshScheme = "Mesh";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
            return access.Value.Mesh.Enabled ? await Context.AuthenticateAsync(MeshScheme) : AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <token>'.");
        var token = header["Bearer ".Length..].Trim();
        if (token.StartsWith(AccessToken.Prefix, StringComparison.Ordinal)) return await PlatformTokenAsync(token);
        if (access.Value.Jwt.Enabled) return await Context.AuthenticateAsync(JwtScheme);
        return AuthenticateResult.Fail("The token is not one Platform issued, and no identity provider is configured.");
    }

    private async Task<AuthenticateResult> PlatformTokenAsync(string token)
    {
        if (!AccessToken.TryParse(token, out var id, out var secret)) return AuthenticateResult.Fail("The token is malformed.");
        var stored = await LoadAsync(id);
        if (stored is null || !stored.Matches(secret)) return AuthenticateResult.Fail("The token is unknown.");
        if (stored.RevokedAt is not null) return AuthenticateResult.Fail("The token was revoked.");
        if (stored.ExpiresAt <= clock.GetUtcNow()) return AuthenticateResult.Fail($"The token expired at {stored.ExpiresAt:O}.");
        var identity = new ClaimsIdentity(
            [new Claim(Caller.SubjectClaim, Subjects.ServiceAccount(stored.Account)), new Claim(Caller.MeansClaim, "service_account")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task<AccessToken?> LoadAsync(Guid id)
    {
        var key = "token:" + id;
        if (cache.TryGetValue(key, out AccessToken? cached)) return cached;
        await using var session = store.QuerySession();
        var stored = await session.LoadAsync<AccessToken>(id, Context.RequestAborted);
        if (access.Value.CacheSeconds > 0) cache.Set(key, stored, TimeSpan.FromSeconds(access.Value.CacheSeconds));
        return stored;
    }

    /// <summary>Forgets a token this process remembers, after it was revoked here.</summary>
    public static void Forget(IMemoryCache cache, Guid id) => cache.Remove("token:" + id);

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var reason = result.Failure is { } failure ? JwtReasons.Describe(failure) : null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = reason is null
            ? "Bearer realm=\"platform\""
            : $"Bearer realm=\"platform\", error=\"invalid_token\", error_description=\"{reason.Replace("\"", "'")}\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized.",
                Detail = reason ?? "A bearer token is required: 'Authorization: Bearer <token>'.",
            },
        });
    }
}
