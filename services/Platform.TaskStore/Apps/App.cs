namespace Platform.TaskStore.Apps;

/// <summary>
/// A registered app: the configuration every one of its tasks inherits. Stored as a Marten document keyed
/// by its name, which is unique.
/// </summary>
public sealed class App
{
    public string Name { get; set; } = "";
    public string Command { get; set; } = "";
    public Dictionary<string, string> Env { get; set; } = new();
    public int MemoryInMb { get; set; }
    public int DiskInMb { get; set; }
    /// <summary>This app's own retention limits; null means the Retention service's configured ones.</summary>
    public AppRetention? Retention { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
