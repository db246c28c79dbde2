using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Executor.Tasks.Running;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>A task's process, ready to start, with the means to signal its whole tree.</summary>
internal sealed class SandboxedProcess(ProcessStartInfo start, MemoryCgroup? cgroup, string? hostScratch) : IDisposable
{
    public ProcessStartInfo StartInfo { get; } = start;
    public MemoryCgroup? Cgroup { get; } = cgroup;

    /// <summary>
    /// SIGTERM reaches every process of the task but the sandbox's monitor (killing the monitor first would
    /// SIGKILL the tree at once, skipping the grace period); SIGKILL reaches all.
    /// </summary>
    public void Signal(Process process, int signal)
    {
        if (Cgroup is not null) Cgroup.Signal(signal, except: signal == Signals.Term ? process.Id : null);
        else Signals.Send(-process.Id, signal); // the process group that setsid made
    }

    public bool OomKilled() => Cgroup?.OomKilled() ?? false;

    public void Dispose()
    {
        Cgroup?.Dispose();
        if (hostScratch is not null && Directory.Exists(hostScratch)) Directory.Delete(hostScratch, recursive: true);
    }
}

/// <summary>
/// Isolates each task: bubblewrap gives it its own PID namespace (ending the namespace's first process ends
/// every process in it), a read-only view of the host's system directories only
/// (<see cref="SandboxOptions.HostDirectories"/>), and a private writable scratch directory
/// (<c>/home/task</c>, with <c>/tmp</c> inside it) on a tmpfs the size of the task's disk limit, so writes past
/// it fail with ENOSPC inside the task and never fill the host's disk. A memory cgroup of its own holds the
/// memory limit. The host's support is probed once at start-up and reported in one log line.
/// </summary>
internal sealed class Sandbox(IOptions<SandboxOptions> options, IOptions<ExecutorOptions> executor, ILogger<Sandbox> logger)
{
    public const string Scratch = "/home/task";
    private static readonly HashSet<string> NotFromHost = ["tmp", "home", "proc", "dev", "sys"];
    private (string Path, bool V2)? _cgroups;
    private string[] _rootBinds = [];

    public bool Enabled { get; private set; }

    /// <summary>Decides how tasks will run on this host; throws when they cannot be isolated and that was not explicitly allowed.</summary>
    public void Probe()
    {
        var settings = options.Value;
        string? problem = settings.Disabled ? "the sandbox is disabled by configuration (Executor:Sandbox:Disabled)" : null;
        if (problem is null)
        {
            _cgroups = MemoryCgroup.FindParent();
            problem = _cgroups is null ? "no writable memory cgroup (v1 or v2 with the memory controller) for this process" : ProbeCgroup();
        }
        if (problem is null)
        {
            _rootBinds = RootBinds();
            problem = ProbeBubblewrap();
        }

        if (problem is null)
        {
            Enabled = true;
            logger.LogInformation(
                "Sandbox: bubblewrap (PID namespace, read-only root, {Scratch} on a size-limited tmpfs) and cgroup {Version} memory limits under {Cgroup}",
                Scratch, _cgroups!.Value.V2 ? "v2" : "v1", _cgroups.Value.Path);
        }
        else if (settings.AllowUnsandboxed)
        {
            logger.LogWarning("Tasks run UNSANDBOXED: {Problem}. Memory and disk limits are not enforced and tasks share the host's filesystem view.", problem);
        }
        else
        {
            throw new InvalidOperationException(
                $"Cannot sandbox tasks: {problem}. Install bubblewrap and run where cgroups are writable, or set Executor:Sandbox:AllowUnsandboxed=true to run tasks unconfined.");
        }
    }

    public SandboxedProcess Prepare(ClaimedTask task, string command)
    {
        if (!Enabled) return PrepareUnsandboxed(task, command);

        var cgroup = MemoryCgroup.Create(_cgroups!.Value, $"platform-task-{task.TaskId:N}", task.MemoryInMb * 1024L * 1024L);
        // A shell joins the cgroup, then becomes bubblewrap: every process of the task starts inside the cgroup.
        var start = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "echo $$ > \"$1\" && shift && exec \"$@\"", "platform-task", cgroup.ProcsFile } };
        foreach (var argument in BubblewrapArguments(task, command)) start.ArgumentList.Add(argument);
        Configure(start, task, Scratch);
        return new SandboxedProcess(start, cgroup, hostScratch: null);
    }

    private IEnumerable<string> BubblewrapArguments(ClaimedTask task, string command)
    {
        yield return options.Value.Bubblewrap;
        foreach (var flag in (string[])["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"]) yield return flag;
        if (options.Value.IsolateNetwork) yield return "--unshare-net";
        foreach (var argument in _rootBinds) yield return argument;
        foreach (var argument in (string[])[
                     "--ro-bind", "/sys", "/sys", "--dev", "/dev", "--proc", "/proc",
                     "--size", (task.DiskInMb * 1024L * 1024L).ToString(), "--tmpfs", Scratch,
                     "--dir", $"{Scratch}/tmp", "--symlink", $"{Scratch}/tmp", "/tmp",
                     "--chdir", Scratch, "--", "/bin/sh", "-c", command])
            yield return argument;
    }

    private SandboxedProcess PrepareUnsandboxed(ClaimedTask task, string command)
    {
        var scratch = Path.Combine(executor.Value.WorkDirectory, task.TaskId.ToString("N"));
        Directory.CreateDirectory(Path.Combine(scratch, "tmp"));
        // setsid: the task gets a process group of its own, so that termination reaches its children.
        var start = new ProcessStartInfo("setsid") { ArgumentList = { "/bin/sh", "-c", command }, WorkingDirectory = scratch };
        Configure(start, task, scratch);
        return new SandboxedProcess(start, cgroup: null, hostScratch: scratch);
    }

    private static void Configure(ProcessStartInfo start, ClaimedTask task, string scratch)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        // Only the task's own environment: never the executor's, which holds credentials.
        start.Environment.Clear();
        foreach (var (name, value) in TaskEnvironment.For(task, scratch)) start.Environment[name] = value;
    }

    /// <summary>The configured host directories that exist, read-only (a symlink, as on merged-/usr systems, stays a symlink).</summary>
    private string[] RootBinds()
    {
        var arguments = new List<string>();
        var names = options.Value.HostDirectories.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.Trim('/')).Where(n => n.Length > 0 && !n.Contains('/') && !NotFromHost.Contains(n)).Distinct();
        foreach (var name in names)
        {
            var entry = new DirectoryInfo("/" + name);
            if (entry.LinkTarget is { } target) arguments.AddRange(["--symlink", target, entry.FullName]);
            else if (entry.Exists) arguments.AddRange(["--ro-bind", entry.FullName, entry.FullName]);
        }
        return arguments.ToArray();
    }

    private string? ProbeCgroup()
    {
        try
        {
            using var probe = MemoryCgroup.Create(_cgroups!.Value, $"platform-probe-{Environment.ProcessId}", 64L * 1024 * 1024);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot create a memory cgroup under {_cgroups!.Value.Path}: {ex.Message}";
        }
    }

    private string? ProbeBubblewrap()
    {
        var start = new ProcessStartInfo(options.Value.Bubblewrap) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["--unshare-pid", "--die-with-parent", .. _rootBinds, "--proc", "/proc", "--dev", "/dev",
                     "--size", "1048576", "--tmpfs", Scratch, "--", "/bin/true"])
            start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10))) return "bubblewrap did not finish a trial run within 10 s";
            return process.ExitCode == 0 ? null : $"bubblewrap failed a trial run (exit {process.ExitCode}): {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"bubblewrap ('{options.Value.Bubblewrap}') cannot be run: {ex.Message}";
        }
    }
}
