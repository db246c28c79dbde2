using System.ComponentModel.DataAnnotations;

namespace Platform.Api.Access;

/// <summary>Who may call the Api and how much: <c>Access</c> in configuration (README: "Who may do what").</summary>
public sealed class AccessOptions
{
    public const string Section = "Access";

    /// <summary>Where the first start writes the admin token (root-only, mode 0600). Empty: no admin token is created.</summary>
    public string AdminTokenFile { get; set; } = "";

    [Range(1, 3650)]
    public int AdminTokenLifetimeDays { get; set; } = 365;

    /// <summary>The lifetime of a service-account token when its request does not say.</summary>
    [Range(1, 3650)]
    public int DefaultTokenLifetimeDays { get; set; } = 90;

    /// <summary>
    /// How long a validated token and a subject's role bindings are remembered by one Api process: the
    /// longest a revocation or a role change on another replica takes to apply here. 0 reads them every request.
    /// </summary>
    [Range(0, 300)]
    public double CacheSeconds { get; set; } = 5;

    public JwtOptions Jwt { get; set; } = new();

    public MeshOptions Mesh { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();
}

/// <summary>The organisation's identity provider. Off unless <see cref="Issuer"/> is set.</summary>
public sealed class JwtOptions
{
    public string Issuer { get; set; } = "";

    /// <summary>The audiences a token must name one of; required with an issuer.</summary>
    public string[] Audiences { get; set; } = [];

    /// <summary>An OpenID Connect authority whose discovery document names the signing keys (its JWKS address).</summary>
    public string Authority { get; set; } = "";

    /// <summary>
    /// The identity provider's key set (JWKS) address, for a provider without an OpenID Connect discovery
    /// document. HTTPS, or HTTP on a loopback address only (a sidecar or a local proxy).
    /// </summary>
    public string JwksUri { get; set; } = "";

    /// <summary>Signing keys given directly: PEM-encoded RSA or EC public keys.</summary>
    public string[] SigningKeys { get; set; } = [];

    /// <summary>The claim that names the user (bound in roles as <c>user:&lt;value&gt;</c>).</summary>
    public string SubjectClaim { get; set; } = "sub";

    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer);
}

/// <summary>
/// Trust of a service mesh's workload identity instead of a token. Only safe when the sidecar strips these
/// headers from what callers send (README); off by default.
/// </summary>
public sealed class MeshOptions
{
    public bool Enabled { get; set; }

    /// <summary><c>Istio</c> (the SPIFFE <c>URI=</c> of <c>x-forwarded-client-cert</c>) or <c>Linkerd</c> (<c>l5d-client-id</c>).</summary>
    public string Kind { get; set; } = "Istio";
}

/// <summary>Per-caller limits (OWASP API4), on by default.</summary>
public sealed class LimitOptions
{
    /// <summary>Requests per second each caller (subject, or address when unauthenticated) may make on average; 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>How many requests a caller may make at once above the average.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 400;

    [Range(1024, 64 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    // MaxUnfinishedTasksPerApp and MaxUnfinishedTasksPerSpace of this section are read by the task store
    // (Platform.TaskStore.Tasks.UnfinishedTaskLimitOptions), since the Scheduler holds its occurrences to them too.
}
