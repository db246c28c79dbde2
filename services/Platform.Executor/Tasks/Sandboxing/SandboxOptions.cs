namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>How task processes are isolated.</summary>
public sealed class SandboxOptions
{
    public const string Section = "Executor:Sandbox";

    /// <summary>
    /// Run tasks without bubblewrap and cgroups when the host offers neither. Off by default: an executor
    /// that cannot isolate tasks refuses to start rather than run them unconfined by surprise.
    /// </summary>
    public bool AllowUnsandboxed { get; set; }

    /// <summary>Force unsandboxed even where a sandbox is available (benchmarks compare both). Requires AllowUnsandboxed.</summary>
    public bool Disabled { get; set; }

    /// <summary>The bubblewrap binary.</summary>
    public string Bubblewrap { get; set; } = "bwrap";

    /// <summary>Give tasks their own network namespace (no network). Off: tasks such as migrations need the network.</summary>
    public bool IsolateNetwork { get; set; }
}
