using Platform.TaskStore.Apps;

namespace Platform.Api.Apps;

/// <summary>An app as the API shows it.</summary>
internal sealed record AppResource(
    string Name,
    string Command,
    IReadOnlyDictionary<string, string> Env,
    int MemoryInMb,
    int DiskInMb,
    AppRetention? Retention,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static AppResource From(App app) =>
        new(app.Name, app.Command, app.Env, app.MemoryInMb, app.DiskInMb, app.Retention, app.CreatedAt, app.UpdatedAt);
}
