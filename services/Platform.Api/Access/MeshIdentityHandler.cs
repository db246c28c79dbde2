using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>
/// Trusts the workload identity a service mesh's sidecar put on the request: Istio's
/// <c>x-forwarded-client-cert</c> (its SPIFFE <c>URI=</c>), or Linkerd's <c>l5d-client-id</c>. Only safe
/// when the sidecar strips those headers from what callers send; off unless <c>Access:Mesh:Enabled</c>.
/// </summary>
internal sealed class MeshIdentityHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder, IOptions<AccessOptions> access)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var identity = Identity(access.Value.Mesh.Kind, Request.Headers);
        if (identity is null) return Task.FromResult(AuthenticateResult.NoResult());
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(Caller.SubjectClaim, Subjects.Mesh(identity)), new Claim(Caller.MeansClaim, "mesh")], PlatformTokenHandler.MeshScheme));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, PlatformTokenHandler.MeshScheme)));
    }

    /// <summary>The workload identity in the mesh's header, or null when there is none.</summary>
    internal static string? Identity(string kind, IHeaderDictionary headers)
    {
        if (string.Equals(kind, "Linkerd", StringComparison.OrdinalIgnoreCase))
            return headers["l5d-client-id"].ToString() is { Length: > 0 } id ? id : null;
        // x-forwarded-client-cert: By=...;Hash=...;URI=spiffe://cluster.local/ns/ci/sa/runner[,next element]
        var xfcc = headers["x-forwarded-client-cert"].ToString();
        foreach (var element in xfcc.Split(',', StringSplitOptions.TrimEntries))
        foreach (var pair in element.Split(';', StringSplitOptions.TrimEntries))
        {
            if (pair.StartsWith("URI=", StringComparison.OrdinalIgnoreCase) && pair[4..].Trim('"') is { } uri && uri.StartsWith("spiffe://", StringComparison.Ordinal))
                return uri;
        }
        return null;
    }
}
