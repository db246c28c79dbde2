namespace Platform.TaskStore.Access;

/// <summary>
/// A space, as Cloud Foundry's: the unit apps (and with them their jobs and tasks) belong to, and that roles
/// are granted in. Created by an admin; <see cref="DefaultName"/> exists from the first start.
/// </summary>
public sealed class Space
{
    public const string DefaultName = "default";

    public string Name { get; set; } = "";

    /// <summary>Whether auditors may read the logs of the space's tasks (off: logs can hold what commands print).</summary>
    public bool AuditorsReadLogs { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}
