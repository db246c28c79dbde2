using System.Security.Claims;
using Marten;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Platform.Api.Http;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>
/// The authenticated caller of one request: who (a typed subject), through which means (token, service
/// account, identity provider, mesh), and the roles it holds. Every endpoint asks it about the space of
/// each object it touches, before it reveals or changes anything (OWASP API1): no role in the space is the
/// object's 404, a role without the permission a 403.
/// </summary>
internal sealed class Caller(IDocumentStore store, IMemoryCache cache, IOptions<AccessOptions> options)
{
    public const string SubjectClaim = "platform:subject";
    public const string MeansClaim = "platform:means";

    public string Subject { get; private set; } = "";
    public string Means { get; private set; } = "";
    public Grants Grants { get; private set; } = Grants.None;

    public bool IsAdmin => Grants.IsAdmin;

    /// <summary>Who did it, as stored with what the request writes: <c>service-account:ci (service_account)</c>.</summary>
    public string Description => Actors.Of(Subject, Means);

    /// <summary>The spaces whose objects this caller may list; null means every space (an admin).</summary>
    public IReadOnlyCollection<string>? VisibleSpaces => IsAdmin ? null : Grants.Spaces.Keys.ToList();

    public async Task LoadAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        Subject = user.FindFirstValue(SubjectClaim) ?? "";
        Means = user.FindFirstValue(MeansClaim) ?? "";
        Grants = await GrantsOfAsync(Subject, ct);
    }

    private async Task<Grants> GrantsOfAsync(string subject, CancellationToken ct)
    {
        var key = "grants:" + subject;
        if (cache.TryGetValue(key, out Grants? cached)) return cached!;
        await using var session = store.QuerySession();
        var grants = await Grants.LoadAsync(session, subject, ct);
        if (options.Value.CacheSeconds > 0) cache.Set(key, grants, TimeSpan.FromSeconds(options.Value.CacheSeconds));
        return grants;
    }

    /// <summary>Forgets what this process remembers of a subject's roles, after a change to them.</summary>
    public static void Forget(IMemoryCache cache, string subject) => cache.Remove("grants:" + subject);

    public bool Sees(string space) => Grants.RoleIn(space) is not null;

    /// <summary>
    /// Null when the caller may do <paramref name="permission"/> in <paramref name="space"/>; otherwise the
    /// answer to give: 404 for <paramref name="what"/> <paramref name="id"/> when it has no role there (so
    /// nothing tells it the object exists), 403 when its role does not allow it.
    /// </summary>
    public async Task<IResult?> RefuseAsync(string space, Permission permission, string what, string id, CancellationToken ct)
    {
        if (Grants.RoleIn(space) is not { } role) return Problems.NotFound(what, id);
        var allowed = role == Role.Auditor && permission == Permission.ReadLogs
            ? RolePermissions.Allows(role, permission, await SpaceAsync(space, ct) ?? new Space { Name = space })
            : RolePermissions.Allows(role, permission, new Space { Name = space });
        return allowed ? null : Problems.Forbidden($"Your role in space '{space}' ({role.ToString().ToLowerInvariant()}) does not allow this.");
    }

    /// <summary>Whether the caller may see something that is shown redacted otherwise (commands, environment values).</summary>
    public bool May(string space, Permission permission) =>
        Grants.RoleIn(space) is { } role && RolePermissions.Allows(role, permission, new Space { Name = space });

    /// <summary>403 unless the caller is an admin: managing spaces, roles and service accounts.</summary>
    public IResult? RefuseUnlessAdmin() => IsAdmin ? null : Problems.Forbidden("Only an admin may do this.");

    private async Task<Space?> SpaceAsync(string name, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<Space>(name, ct);
    }
}
