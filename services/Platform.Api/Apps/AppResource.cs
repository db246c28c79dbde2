using Platform.TaskStore.Apps;

namespace Platform.Api.Apps;

/// <summary>An app as the API shows it: secret variables by name only.</summary>
internal sealed record AppResource(
    string Name,
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
    public static AppResource From(App app) => new(
        app.Name, app.Command, app.Env, app.SecretEnv.Keys.Order(StringComparer.Ordinal).ToList(), app.MemoryInMb, app.DiskInMb,
        app.TasksOnly, app.TaskMaxAttempts, app.Image, app.Retention, app.PidsLimit, app.Network ?? AppNetwork.Default, app.CreatedAt, app.UpdatedAt);
}
