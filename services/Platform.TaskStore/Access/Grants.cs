using Marten;

namespace Platform.TaskStore.Access;

/// <summary>
/// What one subject holds: admin everywhere, or a role per space (the strongest, where several are bound).
/// Loaded once per request (or per published message) and asked for every object the request touches.
/// </summary>
public sealed record Grants(bool IsAdmin, IReadOnlyDictionary<string, Role> Spaces)
{
    public static readonly Grants None = new(false, new Dictionary<string, Role>());

    public static Grants From(IEnumerable<RoleBinding> bindings)
    {
        var isAdmin = false;
        var spaces = new Dictionary<string, Role>(StringComparer.Ordinal);
        foreach (var binding in bindings)
        {
            if (binding.Role == Role.Admin) isAdmin = true;
            else if (binding.Space is { } space && (!spaces.TryGetValue(space, out var held) || binding.Role < held)) spaces[space] = binding.Role;
        }
        return new Grants(isAdmin, spaces);
    }

    public static async Task<Grants> LoadAsync(IQuerySession session, string subject, CancellationToken ct) =>
        From(await session.Query<RoleBinding>().Where(b => b.Subject == subject).ToListAsync(ct));

    /// <summary>The role the subject has in <paramref name="space"/>; null when it has none (the space's objects do not exist for it).</summary>
    public Role? RoleIn(string space) => IsAdmin ? Role.Admin : Spaces.TryGetValue(space, out var role) ? role : null;

    public bool Allows(Permission permission, Space space) =>
        RoleIn(space.Name) is { } role && RolePermissions.Allows(role, permission, space);
}
