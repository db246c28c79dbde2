using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Executor.Tasks.Running;
using Platform.Executor.Telemetry;
using Platform.TaskStore.Apps;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// Isolates each task as a container platform does, layer by layer (ARCHITECTURE.md, "Threat model"):
/// <list type="bullet">
/// <item>an unprivileged host user (<see cref="SandboxOptions.TaskUser"/>) with no capabilities, an empty
/// bounding set and <c>no_new_privs</c>;</item>
/// <item>its own mount, PID (ending the namespace's first process ends every process in it), IPC, UTS and
/// cgroup namespaces, a read-only view of the host's system directories only
/// (<see cref="SandboxOptions.HostDirectories"/>), and a private writable scratch directory (<c>/home/task</c>,
/// with <c>/tmp</c> inside it) on a tmpfs the size of the task's disk limit: made by the launcher
/// (Launcher/platform-sandbox-launch.c), or by bubblewrap where the launcher cannot be built or run;</item>
/// <item>a seccomp filter (<see cref="SeccompFilter"/>) against mounts, namespaces, tracing, kernel modules and the like;</item>
/// <item>a network namespace of its own (<see cref="TaskNetworks"/>) whose firewall keeps the host and the
/// platform's servers out of reach, or none at all;</item>
/// <item>cgroups (<see cref="TaskCgroup"/>) for memory, processes and CPU weight.</item>
/// </list>
/// The host's support is probed once at start-up and reported in one log line; a missing layer stops the
/// executor unless <see cref="SandboxOptions.AllowWeakerIsolation"/> says otherwise.
/// </summary>
internal sealed class Sandbox(
    IOptions<SandboxOptions> options, IOptions<ExecutorOptions> executor, TaskNetworks networks, TaskCgroups cgroups, ExecutorTelemetry telemetry,
    ILogger<Sandbox> logger) : IDisposable
{
    public const string Scratch = "/home/task";
    private static readonly HashSet<string> NotFromHost = ["tmp", "home", "proc", "dev", "sys"];
    private CgroupLayout? _cgroups;
    private HostDirectory[] _hostDirectories = [];
    private TaskUser? _user;
    private string? _seccomp;
    private bool _networks;
    private string? _resolvConf;
    private string _shellLauncher = "";
    private string? _launcher;
    private string _sandboxRoot = "";
    private ReadySandboxes? _ready;

    /// <summary>The launcher where it was built, to start unsandboxed tasks in a session of their own; otherwise setsid does.</summary>
    private readonly Lazy<string?> _sessionStarter = new(() => LauncherPath(options.Value) is { } path && File.Exists(path) ? path : null);

    public bool Enabled { get; private set; }

    /// <summary>Decides how tasks will run on this host; throws when they cannot be isolated and that was not explicitly allowed.</summary>
    public void Probe()
    {
        InheritedDescriptors.CloseOnExec();
        var settings = options.Value;
        string? problem = settings.Disabled ? "the sandbox is disabled by configuration (Executor:Sandbox:Disabled)" : null;
        if (problem is null)
        {
            _cgroups = CgroupLayout.Find();
            problem = _cgroups is null ? "no writable memory cgroup (v1 or v2 with the memory controller) for this process" : ProbeCgroup();
        }
        if (problem is null)
        {
            _hostDirectories = HostDirectories();
            problem = ProbeStarter();
        }
        if (problem is not null)
        {
            if (!settings.AllowUnsandboxed)
                throw new InvalidOperationException(
                    $"Cannot sandbox tasks: {problem}. Build the launcher (a C compiler, eng/setup.sh) or install bubblewrap, run as root where cgroups are writable, " +
                    "or set Executor:Sandbox:AllowUnsandboxed=true to run tasks unconfined.");
            logger.LogWarning("Tasks run UNSANDBOXED: {Problem}. Memory and disk limits are not enforced and tasks share the host's filesystem view.", problem);
            return;
        }

        var missing = ProbeLayers();
        if (missing.Count > 0 && !settings.AllowWeakerIsolation)
            throw new InvalidOperationException(
                $"Cannot isolate tasks fully: {string.Join("; ", missing.Select(m => $"{m.Layer}: {m.Problem}"))}. " +
                "Fix the host, or set Executor:Sandbox:AllowWeakerIsolation=true to run tasks without these layers.");
        foreach (var (layer, why) in missing)
            logger.LogWarning("WEAKER ISOLATION: tasks run without {Layer} ({Problem}), as Executor:Sandbox:AllowWeakerIsolation allows", layer, why);

        Enabled = true;
        var ahead = _launcher is null ? 0 : options.Value.PreparedSandboxes;
        _ready = new ReadySandboxes(ahead, StartAheadAsync, logger);
        logger.LogInformation(
            "Sandbox: {Starter} (mount, PID, IPC, UTS, cgroup namespaces, read-only system directories, {Scratch} on a size-limited tmpfs); user {User}; " +
            "seccomp {Seccomp}; network namespace {Network}; cgroup {Version} memory{Pids}{Cpu} under {Cgroup}; {Ahead} started ahead of demand",
            _launcher ?? "sh, nsenter, setpriv and bubblewrap", Scratch,
            _user is { } user ? $"{user.Name} ({user.Uid}:{user.Gid}){(_launcher is null ? " in a user namespace" : "")}" : "root without capabilities",
            _seccomp is null ? "off" : "on", _networks ? "per task (slirp4netns + nftables)" : "shared with the host",
            _cgroups!.V2 ? "v2" : "v1", _cgroups.Pids is null ? "" : ", pids", _cgroups.Cpu is null ? "" : ", cpu", _cgroups.Memory, ahead);
    }

    /// <summary>
    /// Who makes the sandboxes: the launcher when it is there and a trial sandbox of its own works; otherwise
    /// bubblewrap (behind sh, nsenter and setpriv), when a trial of it works. Returns why neither can, or null.
    /// </summary>
    private string? ProbeStarter()
    {
        Directory.CreateDirectory(executor.Value.WorkDirectory);
        _sandboxRoot = Path.GetFullPath(Path.Combine(executor.Value.WorkDirectory, "sandbox-root"));
        Directory.CreateDirectory(_sandboxRoot);
        if (LauncherPath(options.Value) is { } path)
        {
            var problem = File.Exists(path)
                ? Trial([path, .. LauncherSandboxArguments(diskInMb: 1, AppNetwork.Default), "--", "/bin/true"], "the sandbox launcher")
                : $"{path} is not there (it is built with the executor where a C compiler is found)";
            if (problem is null)
            {
                _launcher = path;
                return null;
            }
            logger.LogWarning("Sandboxes are made by bubblewrap behind sh, nsenter and setpriv, which costs about three times the CPU per start: {Problem}", problem);
        }
        return Trial(BubblewrapTrial(userNamespace: false), "bubblewrap");
    }

    /// <summary>The layers beyond the namespaces, mounts and memory cgroup, each tried for real; returns the ones this host lacks.</summary>
    private List<(string Layer, string Problem)> ProbeLayers()
    {
        var missing = new List<(string, string)>();
        // bubblewrap, run as the task user, needs a user namespace for its mounts; the launcher mounts as root and then becomes the user.
        var layer = _launcher is null ? "an unprivileged user in a user namespace" : "an unprivileged task user";
        try
        {
            _user = TaskUser.Resolve(options.Value.TaskUser);
            string[] trial = _launcher is { } launcher
                ? [launcher, "--user", $"{_user.Uid}:{_user.Gid}", .. LauncherSandboxArguments(diskInMb: 1, AppNetwork.Default), "--", "/bin/true"]
                : [.. UserArguments(_user), .. BubblewrapTrial(userNamespace: true)];
            if (Trial(trial, $"running as the task user {_user.Name}") is { } problem)
            {
                _user = null;
                missing.Add((layer, problem));
            }
        }
        catch (InvalidOperationException ex)
        {
            missing.Add((layer, ex.Message));
        }

        _seccomp = Path.Combine(executor.Value.WorkDirectory, "seccomp.bpf");
        if (SeccompFilter.TryWrite(_seccomp) is { } seccompProblem)
        {
            _seccomp = null;
            missing.Add(("seccomp", seccompProblem));
        }

        if (networks.Probe() is { } networkProblem) missing.Add(("a network namespace per task", networkProblem));
        else _networks = true;
        if (File.Exists("/etc/resolv.conf") && new FileInfo("/etc/resolv.conf").LinkTarget is null && _hostDirectories.Any(d => d.Path == "/etc" && d.LinkTarget is null))
        {
            _resolvConf = Path.Combine(executor.Value.WorkDirectory, "resolv.conf");
            File.WriteAllText(_resolvConf, $"nameserver {EgressFirewall.SandboxDns}\n");
        }

        if (_cgroups!.Pids is null) missing.Add(("a process limit", "no pids cgroup controller for this process"));
        if (_cgroups.Cpu is null) missing.Add(("a CPU share", "no cpu cgroup controller for this process"));

        _shellLauncher = ShellLauncher.Script(_cgroups.Parents().Count(), _seccomp is not null);
        return missing;
    }

    /// <summary>Where the configured launcher is (next to the executor's assembly when relative), or null when the setting is empty.</summary>
    private static string? LauncherPath(SandboxOptions settings) =>
        settings.Launcher.Length == 0 ? null : Path.Combine(AppContext.BaseDirectory, settings.Launcher);

    /// <summary>
    /// A sandbox for the task with its limits in place, not yet running it (<see cref="SandboxedProcess.Run"/>):
    /// one started ahead of demand when one fits, otherwise one made now.
    /// </summary>
    public async Task<SandboxedProcess> PrepareAsync(ClaimedTask task, CancellationToken ct)
    {
        if (!Enabled) return PrepareUnsandboxed(task);

        var policy = task.Network ?? AppNetwork.Default;
        var pidsLimit = task.PidsLimit ?? options.Value.DefaultPidsLimit;
        if (policy.Egress == AppNetwork.Open && _ready!.TryTake(task.DiskInMb) is { } ready)
        {
            if (Fits(ready, task, pidsLimit))
            {
                telemetry.SandboxResourceTaken(ExecutorTelemetry.SandboxProcess, ExecutorTelemetry.Prepared);
                return ready;
            }
            ready.Dispose();
        }
        telemetry.SandboxResourceTaken(ExecutorTelemetry.SandboxProcess, ExecutorTelemetry.New);
        return await MakeAsync(task.MemoryInMb, pidsLimit, task.DiskInMb, policy, ct);
    }

    /// <summary>Whether a sandbox started ahead may serve the task; if so, the task's limits are now in its cgroups.</summary>
    private bool Fits(SandboxedProcess ready, ClaimedTask task, int pidsLimit)
    {
        // The host may have gained or lost an address since its namespace's deny list was written.
        if (ready.Network is { } network && !networks.StillCurrent(network)) return false;
        try
        {
            ready.Limit(task, pidsLimit);
            return true;
        }
        catch (IOException ex)
        {
            logger.LogDebug(ex, "A sandbox started ahead could not take task {TaskId}'s limits; starting one for it", task.TaskId);
            return false;
        }
    }

    /// <summary>A sandbox for the next task with open egress, started now; it waits for the task on stdin.</summary>
    private async Task<SandboxedProcess> StartAheadAsync(int diskInMb, CancellationToken ct)
    {
        // Placeholder limits, enough for the sandbox's own start: the task's are written when it is taken.
        var sandbox = await MakeAsync(memoryInMb: 64, options.Value.DefaultPidsLimit, diskInMb, AppNetwork.Default, ct);
        try
        {
            sandbox.StartAhead();
            return sandbox;
        }
        catch
        {
            sandbox.Dispose();
            throw;
        }
    }

    private async Task<SandboxedProcess> MakeAsync(int memoryInMb, int pidsLimit, int diskInMb, AppNetwork policy, CancellationToken ct)
    {
        var cgroup = cgroups.Take(memoryInMb * 1024L * 1024L, pidsLimit, memoryInMb);
        TaskNetwork? network = null;
        try
        {
            if (_networks && policy.Egress != AppNetwork.None) network = await networks.TakeAsync(policy, ct);
        }
        catch
        {
            cgroups.Return(cgroup, taskGone: true);
            throw;
        }

        ProcessStartInfo start;
        if (_launcher is { } launcher)
        {
            start = Launch(launcher, cgroup, network);
            Add(start, LauncherSandboxArguments(diskInMb, policy));
        }
        else
        {
            start = LaunchThroughShell(cgroup, network);
            Add(start, BubblewrapArguments(diskInMb, policy));
        }
        Configure(start);
        return new SandboxedProcess(start, cgroup, cgroups, network, hostScratch: null, pidsLimit, readsTask: _launcher is not null, launcherExecs: _launcher is not null)
        {
            DiskInMb = diskInMb,
        };
    }

    /// <summary>The launcher joins the cgroups and the network namespace, makes the sandbox, becomes the task user and installs the seccomp filter.</summary>
    private ProcessStartInfo Launch(string launcher, TaskCgroup cgroup, TaskNetwork? network)
    {
        var start = new ProcessStartInfo(launcher);
        foreach (var file in cgroup.ProcsFiles) Add(start, "--cgroup", file);
        if (network is not null) Add(start, "--netns", network.NamespacePath);
        if (_seccomp is not null) Add(start, "--seccomp", _seccomp);
        if (_user is { } user) Add(start, "--user", $"{user.Uid}:{user.Gid}");
        return start;
    }

    /// <summary>
    /// The sandbox the launcher builds: its root on <see cref="_sandboxRoot"/> (in the task's own mount
    /// namespace), the host directories, the scratch size and the network. With no program after them, it
    /// reads the task from stdin.
    /// </summary>
    private IEnumerable<string> LauncherSandboxArguments(int diskInMb, AppNetwork policy)
    {
        yield return "--root";
        yield return _sandboxRoot;
        // Without namespaces of our own an allow-list cannot be enforced: such a task gets no network rather than all of it.
        if (policy.Egress == AppNetwork.None || (!_networks && policy.Egress == AppNetwork.Restricted)) yield return "--no-network";
        foreach (var directory in _hostDirectories)
        {
            if (directory.LinkTarget is { } target) foreach (var argument in (string[])["--link", target, directory.Path]) yield return argument;
            else foreach (var argument in (string[])["--ro", directory.Path]) yield return argument;
        }
        foreach (var argument in (string[])["--ro", "/sys"]) yield return argument;
        if (_resolvConf is not null && policy.Egress != AppNetwork.None && _networks)
            foreach (var argument in (string[])["--resolv-conf", _resolvConf]) yield return argument;
        yield return "--scratch-bytes";
        yield return (diskInMb * 1024L * 1024L).ToString();
    }

    /// <summary>
    /// The same through three programs: a shell joins the cgroups (and opens the seccomp program for
    /// bubblewrap), then becomes nsenter, which becomes setpriv, so every process of the task is in its
    /// cgroups from the first instruction.
    /// </summary>
    private ProcessStartInfo LaunchThroughShell(TaskCgroup cgroup, TaskNetwork? network)
    {
        var start = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", _shellLauncher, "platform-task" } };
        foreach (var file in cgroup.ProcsFiles) start.ArgumentList.Add(file);
        if (_seccomp is not null) start.ArgumentList.Add(_seccomp);
        if (network is not null) Add(start, "nsenter", $"--net={network.NamespacePath}", "--");
        if (_user is not null) Add(start, UserArguments(_user));
        return start;
    }

    private static void Add(ProcessStartInfo start, params IEnumerable<string> arguments)
    {
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
    }

    /// <summary>setpriv makes the chain the task user, with no capabilities and no way to gain any; bubblewrap then runs unprivileged.</summary>
    private static string[] UserArguments(TaskUser user) =>
    [
        "setpriv", $"--reuid={user.Uid}", $"--regid={user.Gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ];

    /// <summary>bubblewrap's arguments up to its <c>--</c>, after which the task's program is added when the task runs.</summary>
    private IEnumerable<string> BubblewrapArguments(int diskInMb, AppNetwork policy)
    {
        yield return options.Value.Bubblewrap;
        foreach (var argument in IsolationFlags()) yield return argument;
        // Without namespaces of our own an allow-list cannot be enforced: such a task gets no network rather than all of it.
        if (policy.Egress == AppNetwork.None || (!_networks && policy.Egress == AppNetwork.Restricted)) yield return "--unshare-net";
        foreach (var argument in BubblewrapBinds()) yield return argument;
        if (_resolvConf is not null && policy.Egress != AppNetwork.None && _networks)
            foreach (var argument in (string[])["--ro-bind", _resolvConf, "/etc/resolv.conf"]) yield return argument;
        foreach (var argument in (string[])[
                     "--ro-bind", "/sys", "/sys", "--dev", "/dev", "--proc", "/proc",
                     "--size", (diskInMb * 1024L * 1024L).ToString(), "--tmpfs", Scratch,
                     "--dir", $"{Scratch}/tmp", "--symlink", $"{Scratch}/tmp", "/tmp", "--chdir", Scratch])
            yield return argument;
        // The root bubblewrap builds is a tmpfs of its own: read-only, so that the scratch directory is the one place a task writes.
        yield return "--remount-ro";
        yield return "/";
        if (_seccomp is not null) foreach (var argument in (string[])["--seccomp", "3"]) yield return argument;
        yield return "--"; // the task's program follows (TaskCommand)
    }

    /// <summary>The host directories as bubblewrap's binds and symlinks.</summary>
    private IEnumerable<string> BubblewrapBinds() => _hostDirectories.SelectMany(directory =>
        directory.LinkTarget is { } target ? new[] { "--symlink", target, directory.Path } : ["--ro-bind", directory.Path, directory.Path]);

    /// <summary>In a user namespace of its own bubblewrap drops every capability by itself; as root it must be told to.</summary>
    private IEnumerable<string> IsolationFlags() =>
        ((string[])["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session"])
        .Concat(_user is null ? new[] { "--cap-drop", "ALL" } : ["--unshare-user", "--disable-userns"]);

    private SandboxedProcess PrepareUnsandboxed(ClaimedTask task)
    {
        var scratch = Path.Combine(executor.Value.WorkDirectory, task.TaskId.ToString("N"));
        Directory.CreateDirectory(Path.Combine(scratch, "tmp"));
        // A session of its own: the task gets a process group, so that termination reaches its children. The
        // launcher, linked statically, makes it for less than setsid, whose dynamic loading was a third of an
        // unsandboxed start's CPU (docs/benchmarks.md).
        var start = _sessionStarter.Value is { } launcher
            ? new ProcessStartInfo(launcher) { ArgumentList = { "--new-session", "--" } }
            : new ProcessStartInfo("setsid") { ArgumentList = { "--" } };
        start.WorkingDirectory = scratch;
        Configure(start);
        return new SandboxedProcess(start, cgroup: null, cgroups: null, network: null, hostScratch: scratch, pidsLimit: null, readsTask: false,
            launcherExecs: _sessionStarter.Value is not null);
    }

    private static void Configure(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        // Nothing of the executor's environment, which holds credentials; the task's own is set when it runs.
        start.Environment.Clear();
    }

    /// <summary>A host directory a task sees read-only, or a symlink (as on merged-/usr systems, where <c>/bin</c> is one) that stays a symlink.</summary>
    private sealed record HostDirectory(string Path, string? LinkTarget);

    /// <summary>The configured host directories that exist.</summary>
    private HostDirectory[] HostDirectories()
    {
        var directories = new List<HostDirectory>();
        var names = options.Value.HostDirectories.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.Trim('/')).Where(n => n.Length > 0 && !n.Contains('/') && !NotFromHost.Contains(n)).Distinct();
        foreach (var name in names)
        {
            var entry = new DirectoryInfo("/" + name);
            if (entry.LinkTarget is { } target) directories.Add(new HostDirectory(entry.FullName, target));
            else if (entry.Exists) directories.Add(new HostDirectory(entry.FullName, null));
        }
        return directories.ToArray();
    }

    private string? ProbeCgroup()
    {
        try
        {
            cgroups.Probe(_cgroups!);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot create a task cgroup under {_cgroups!.Memory}: {ex.Message}";
        }
    }

    /// <summary>
    /// A minimal bubblewrap sandbox running <c>/bin/true</c>; <paramref name="userNamespace"/>: whether in a user
    /// namespace of its own, as tasks run as the task user then (IsolationFlags). Root without a task user (in a
    /// container) gets none, and may not be allowed one.
    /// </summary>
    private string[] BubblewrapTrial(bool userNamespace) =>
    [
        options.Value.Bubblewrap, "--unshare-pid", "--die-with-parent", .. userNamespace ? ["--unshare-user", "--disable-userns"] : Array.Empty<string>(),
        .. BubblewrapBinds(), "--proc", "/proc", "--dev", "/dev", "--size", "1048576", "--tmpfs", Scratch, "--", "/bin/true",
    ];

    /// <summary>Runs <paramref name="command"/> with stdin at its end; returns why it failed, or null.</summary>
    private static string? Trial(string[] command, string what)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10))) return $"{what}: a trial run did not finish within 10 s";
            return process.ExitCode == 0 ? null : $"{what}: a trial run failed (exit {process.ExitCode}): {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{what}: '{command[0]}' cannot be run: {ex.Message}";
        }
    }

    public void Dispose() => _ready?.Dispose();
}
