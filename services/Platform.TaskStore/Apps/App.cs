namespace Platform.TaskStore.Apps;

/// <summary>
/// A registered app: the configuration every one of its tasks inherits. Stored as a Marten document keyed
/// by its name, which is unique.
/// </summary>
public sealed class App
{
    /// <summary>Marten's table for apps, for the few queries written in SQL.</summary>
    public const string TableName = "mt_doc_app";

    public string Name { get; set; } = "";

    /// <summary>The space the app, its jobs and its tasks belong to; fixed at registration.</summary>
    public string Space { get; set; } = Access.Space.DefaultName;
    public string Command { get; set; } = "";
    public Dictionary<string, string> Env { get; set; } = new();

    /// <summary>Variables delivered only to task processes: the API shows their names, never their values.</summary>
    public Dictionary<string, string> SecretEnv { get; set; } = new();

    /// <summary>Registered for tasks only (Kf's <c>push --task</c>). Platform never runs apps as long-running processes; recorded for clients that set it.</summary>
    public bool TasksOnly { get; set; }

    /// <summary>How many attempts its tasks get when their executor is lost (1: none again), unless a task says otherwise.</summary>
    public int TaskMaxAttempts { get; set; } = 1;

    /// <summary>The container image tasks run from on the Kubernetes runtime; unused by the local runtime.</summary>
    public string? Image { get; set; }
    public int MemoryInMb { get; set; }
    public int DiskInMb { get; set; }

    /// <summary>How many processes (threads count too) each task may have at once; null: the executor's default.</summary>
    public int? PidsLimit { get; set; }

    /// <summary>Where its tasks may connect; null: <see cref="AppNetwork.Default"/> (outbound open, the platform and host denied).</summary>
    public AppNetwork? Network { get; set; }
    /// <summary>This app's own retention limits; null means the Retention service's configured ones.</summary>
    public AppRetention? Retention { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
