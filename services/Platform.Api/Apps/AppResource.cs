using Platform.TaskStore.Apps;

namespace Platform.Api.Apps;

/// <summary>An app as the API shows it.</summary>
internal sealed record AppResource(
    string Name,
    string Command,
    IReadOnlyDictionary<string, string> Env,
    int MemoryInMb,
    int DiskInMb,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static AppResource From(App app) =>
        new(app.Name, app.Command, app.Env, app.MemoryInMb, app.DiskInMb, app.CreatedAt, app.UpdatedAt);
}
