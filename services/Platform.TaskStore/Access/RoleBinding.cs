namespace Platform.TaskStore.Access;

/// <summary>
/// A role granted to a subject in a space (or, for <see cref="Role.Admin"/>, everywhere: <see cref="Space"/> null).
/// Subjects are typed strings (<see cref="Subjects"/>), so an identity provider's user can never pose as a service account.
/// </summary>
public sealed class RoleBinding
{
    public Guid Id { get; set; }
    public string Subject { get; set; } = "";
    public Role Role { get; set; }
    public string? Space { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}

/// <summary>How a subject is written in role bindings: the kind of identity, a colon, and its name within that kind.</summary>
public static class Subjects
{
    public static string ServiceAccount(string name) => "service-account:" + name;

    /// <summary>A user of the organisation's identity provider, by the JWT's subject claim.</summary>
    public static string User(string subject) => "user:" + subject;

    /// <summary>A workload identity a service mesh vouched for (a SPIFFE id, or Linkerd's client id).</summary>
    public static string Mesh(string identity) => "mesh:" + identity;
}
