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

    /// <summary>
    /// The host's top-level directories a task sees, read-only: the system's programs, libraries and
    /// configuration. Everything else (<c>/root</c>, <c>/var</c> with the databases' files and RabbitMQ's
    /// Erlang cookie, <c>/run</c> with their sockets, the platform's own checkout) is not there at all.
    /// Each bind is a mount to set up per task, so fewer also start faster. Comma-separated (a list setting
    /// would be appended to the defaults by the configuration binder, not replace them).
    /// </summary>
    public string HostDirectories { get; set; } = "usr,bin,sbin,lib,lib32,lib64,libx32,etc,opt";

    /// <summary>Give tasks their own network namespace (no network). Off: tasks such as migrations need the network.</summary>
    public bool IsolateNetwork { get; set; }
}
