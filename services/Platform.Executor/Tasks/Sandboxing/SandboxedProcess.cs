using System.Diagnostics;
using System.Text;
using Platform.Executor.Tasks.Running;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// A task's process with the means to signal its whole tree: started when its task runs, or ahead of demand
/// (<see cref="ReadySandboxes"/>), when it waits for the task on stdin (<paramref name="readsTask"/>: the
/// launcher without a program). Where the launcher starts the program (<paramref name="launcherExecs"/>), a
/// command of plain words runs without the shell (<see cref="TaskCommand"/>); bubblewrap and setsid, which
/// would report a missing program in their own words, always get <c>/bin/sh -c</c>.
/// </summary>
internal sealed class SandboxedProcess(
    ProcessStartInfo start, TaskCgroup? cgroup, TaskCgroups? cgroups, TaskNetwork? network, string? hostScratch, int? pidsLimit, bool readsTask,
    bool launcherExecs) : IDisposable
{
    private bool _started;

    public Process Process { get; } = new() { StartInfo = start };

    /// <summary>The process limit in force, or null where the host has no pids controller (or the task runs unsandboxed).</summary>
    public int? PidsLimit => cgroup?.PidsPath is null ? null : pidsLimit;

    /// <summary>Its network namespace, if it has one of its own.</summary>
    public TaskNetwork? Network => network;

    /// <summary>The disk size its scratch directory was made with.</summary>
    public int DiskInMb { get; init; }

    /// <summary>False once a sandbox started ahead has ended before a task came (killed, say): it cannot serve one.</summary>
    public bool Usable => !_started || !Process.HasExited;

    /// <summary>Starts the sandbox before its task is known; it waits for <see cref="Run"/>.</summary>
    public void StartAhead()
    {
        if (!readsTask) throw new InvalidOperationException("Only a sandbox that reads its task from stdin can be started ahead.");
        Process.Start();
        _started = true;
    }

    /// <summary>Writes the task's limits into the cgroups of a sandbox started ahead (IOException when the kernel refuses one).</summary>
    public void Limit(ClaimedTask task, int pidsLimitOfTask)
    {
        cgroup?.Limit(task.MemoryInMb * 1024L * 1024L, pidsLimitOfTask, task.MemoryInMb);
        pidsLimit = pidsLimitOfTask;
    }

    /// <summary>Runs the task: starts the process unless it was started ahead, and hands it the task's command and environment.</summary>
    public void Run(ClaimedTask task)
    {
        var environment = TaskEnvironment.For(task, hostScratch ?? Sandbox.Scratch);
        var argv = launcherExecs ? TaskCommand.Argv(task.Command) : TaskCommand.ThroughShell(task.Command);
        if (!readsTask)
        {
            foreach (var argument in argv) start.ArgumentList.Add(argument); // after the starter's "--"
            // Only the task's own environment: never the executor's, which holds credentials.
            start.Environment.Clear();
            foreach (var (name, value) in environment) start.Environment[name] = value;
        }
        if (!_started) Process.Start();
        _started = true;
        if (readsTask)
        {
            var stdin = Process.StandardInput.BaseStream;
            stdin.Write(TaskSpec(argv, environment));
            stdin.Flush();
        }
        Process.StandardInput.Close();
    }

    /// <summary>
    /// What the launcher reads on stdin when it was started without a program: the number of the program's
    /// words, the words (<see cref="TaskCommand.Argv"/>), then NAME=value per variable, each ended by a NUL byte.
    /// </summary>
    internal static byte[] TaskSpec(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment)
    {
        var entries = argv.Prepend(argv.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Concat(environment.Select(variable => $"{variable.Key}={variable.Value}")).ToList();
        if (entries.Any(entry => entry.Contains('\0')))
            throw new InvalidOperationException("the command or an environment variable contains a NUL character, which no process can be given");
        var spec = new MemoryStream();
        foreach (var entry in entries)
        {
            spec.Write(Encoding.UTF8.GetBytes(entry));
            spec.WriteByte(0);
        }
        return spec.ToArray();
    }

    /// <summary>
    /// SIGTERM reaches every process of the task but the sandbox's monitor (killing the monitor first would
    /// SIGKILL the tree at once, skipping the grace period); SIGKILL reaches all.
    /// </summary>
    public void Signal(int signal)
    {
        if (cgroup is not null) cgroup.Signal(signal, except: signal == Signals.Term ? Process.Id : null);
        else Signals.Send(-Process.Id, signal); // the process group that setsid made
    }

    public bool OomKilled() => cgroup?.OomKilled() ?? false;

    public bool PidsLimitReached() => cgroup?.PidsLimitReached() ?? false;

    /// <summary>
    /// Hands the network namespace and the cgroups back once every process of the task is gone (only then
    /// may they serve another task), in the background: the task's end is recorded meanwhile. A sandbox
    /// started ahead and never given a task ends by itself when its stdin closes.
    /// </summary>
    public void Dispose()
    {
        if (_started && readsTask && !Process.HasExited)
        {
            try
            {
                Process.StandardInput.Close();
            }
            catch (IOException)
            {
            }
        }
        Process.Dispose();
        if (hostScratch is not null && Directory.Exists(hostScratch)) Directory.Delete(hostScratch, recursive: true);
        if (cgroup is not null && cgroups is not null) _ = ReleaseAsync(cgroup, cgroups);
    }

    private async Task ReleaseAsync(TaskCgroup taskCgroup, TaskCgroups pool)
    {
        var gone = await taskCgroup.EmptiedAsync();
        network?.TaskEnded(gone);
        pool.Return(taskCgroup, gone);
    }
}
