using System.ComponentModel.DataAnnotations;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>How task processes are isolated.</summary>
public sealed class SandboxOptions
{
    public const string Section = "Executor:Sandbox";

    /// <summary>
    /// Run tasks without a sandbox when the host allows none (neither the launcher nor bubblewrap can make one, or no writable memory cgroup). Off by default: an executor
    /// that cannot isolate tasks refuses to start rather than run them unconfined by surprise.
    /// </summary>
    public bool AllowUnsandboxed { get; set; }

    /// <summary>
    /// Start even where the host lacks one of the sandbox's layers (the task user, seccomp, network
    /// namespaces, the pids or cpu cgroup controller), running tasks without it; each missing layer is
    /// logged as a warning at start. Off by default: the executor refuses to start and names the layer.
    /// </summary>
    public bool AllowWeakerIsolation { get; set; }

    /// <summary>Force unsandboxed even where a sandbox is available (benchmarks compare both). Requires AllowUnsandboxed.</summary>
    public bool Disabled { get; set; }

    /// <summary>The bubblewrap binary, which makes the sandboxes where the launcher cannot.</summary>
    public string Bubblewrap { get; set; } = "bwrap";

    /// <summary>
    /// The program that makes a task's sandbox: it joins the task's cgroups and network namespace, makes its
    /// namespaces and mounts, becomes the task user and installs the seccomp filter (Tasks/Sandboxing/Launcher,
    /// compiled with the executor where a C compiler is found). A relative path is next to the executor's
    /// assembly. Empty, not there, or unable to make a trial sandbox at start-up: bubblewrap makes them, behind
    /// sh, nsenter and setpriv, with the same layers (and a user namespace) and about three times the start's CPU.
    /// </summary>
    public string Launcher { get; set; } = "platform-sandbox-launch";

    /// <summary>The slirp4netns binary, which carries a task's traffic out of its network namespace.</summary>
    public string Slirp4netns { get; set; } = "slirp4netns";

    /// <summary>The nft binary, which loads a task namespace's firewall.</summary>
    public string Nft { get; set; } = "nft";

    /// <summary>
    /// The unprivileged host user tasks run as: a name from /etc/passwd (eng/setup.sh creates
    /// <c>platform-task</c>) or <c>uid:gid</c>. Never root.
    /// </summary>
    [Required]
    public string TaskUser { get; set; } = "platform-task";

    /// <summary>A task's process limit when its app sets none (<c>pids_limit</c>): a fork bomb stops there.</summary>
    [Range(8, 32768)]
    public int DefaultPidsLimit { get; set; } = 1024;

    /// <summary>
    /// Destinations no task may reach, beyond the ones always denied (this host's addresses, the platform's
    /// configured PostgreSQL and RabbitMQ, loopback, link-local): IPv4 addresses or CIDR blocks,
    /// comma-separated. Put here what tasks must not reach on the network around the executor (other
    /// replicas of the platform's services, a cloud's metadata service at another address).
    /// </summary>
    public string DeniedNetworks { get; set; } = "";

    /// <summary>How many network namespaces are kept ready ahead of demand (0: each task makes its own as it starts).</summary>
    [Range(0, 256)]
    public int PreparedNetworks { get; set; } = 4;

    /// <summary>
    /// How many sandboxes are started ahead of demand, each waiting for one task (0: each task's sandbox is
    /// started on its dispatch path). A sandbox's start (its namespaces and mounts) is most of what a sandboxed task's start costs beyond an unsandboxed one. A sandbox serves one
    /// task and is never reused; only tasks with open egress and the disk size of the last such task are
    /// served from these, and only with the launcher.
    /// </summary>
    [Range(0, 64)]
    public int PreparedSandboxes { get; set; } = 2;

    /// <summary>
    /// The host's top-level directories a task sees, read-only: the system's programs, libraries and
    /// configuration. Everything else (<c>/root</c>, <c>/var</c> with the databases' files and RabbitMQ's
    /// Erlang cookie, <c>/run</c> with their sockets, the platform's own checkout) is not there at all.
    /// Each bind is a mount to set up per task, so fewer also start faster. Comma-separated (a list setting
    /// would be appended to the defaults by the configuration binder, not replace them).
    /// </summary>
    public string HostDirectories { get; set; } = "usr,bin,sbin,lib,lib32,lib64,libx32,etc,opt";
}
