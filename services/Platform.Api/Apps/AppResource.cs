using Platform.Api.Access;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;

namespace Platform.Api.Apps;

/// <summary>
/// An app as the API shows it: secret variables by name only; the command and environment values redacted
/// for roles that may not see them, and no environment at all for an auditor.
/// </summary>
internal sealed record AppResource(
    string Name,
    string Space,
    string Command,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<string> SecretEnv,
    int MemoryInMb,
    int DiskInMb,
    bool TasksOnly,
    int TaskMaxAttempts,
    string? Image,
    AppRetention? Retention,
    int? PidsLimit,
    AppNetwork Network,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static AppResource From(App app, Caller caller)
    {
        var names = caller.May(app.Space, Permission.SeeEnvironmentNames);
        var values = caller.May(app.Space, Permission.SeeEnvironmentValues);
        IReadOnlyDictionary<string, string> env = !names ? new Dictionary<string, string>()
            : values ? app.Env : app.Env.ToDictionary(e => e.Key, _ => RolePermissions.Redacted);
        return new(
            app.Name, app.Space, caller.May(app.Space, Permission.SeeCommands) ? app.Command : RolePermissions.Redacted, env,
            names ? app.SecretEnv.Keys.Order(StringComparer.Ordinal).ToList() : [], app.MemoryInMb, app.DiskInMb,
            app.TasksOnly, app.TaskMaxAttempts, app.Image, app.Retention, app.PidsLimit, app.Network ?? AppNetwork.Default, app.CreatedAt, app.UpdatedAt);
    }
}
