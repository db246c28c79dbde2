using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Platform.Executor.Telemetry;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// This executor's task cgroups. Making three cgroups and removing them after the task cost more than the
/// rest of a sandboxed start's cgroup work (about 4 ms of system time per task on 2 cores, eng/sandbox-layers.sh),
/// and v1's memory cgroups are freed by the kernel's workers long after: so a cgroup whose task has left no
/// process behind, and little charged memory, serves the next task, with that task's limits written into it.
/// The names carry the executor's name and work directory, so that the ones a killed executor left are removed at its next start.
/// </summary>
internal sealed class TaskCgroups(IOptions<ExecutorOptions> executor, ExecutorTelemetry telemetry) : IDisposable
{
    /// <summary>
    /// A cgroup still charged with more than this (page cache of files its task read) is removed rather than
    /// passed on: the next task must find the memory its limit promises without reclaiming another's pages.
    /// </summary>
    private const long MostChargedToReuse = 16L * 1024 * 1024;

    private readonly ConcurrentQueue<TaskCgroup> _idle = new();
    private CgroupLayout? _layout;
    private string _prefix = "";
    private long _count;
    private volatile bool _stopping;

    /// <summary>The most cgroups kept idle: one per task slot.</summary>
    private int MostIdle => executor.Value.MaxConcurrentTasks;

    /// <summary>
    /// Removes what an earlier run of this executor left, then makes and limits one cgroup and keeps it for
    /// the first task; throws an IOException or UnauthorizedAccessException when it cannot.
    /// </summary>
    public void Probe(CgroupLayout layout)
    {
        _layout = layout;
        // The name and the work directory say which executor this is: another one on the host (say, of a
        // second installation whose executor has the same name) must not take these for its leftovers.
        var name = new string(executor.Value.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        var directory = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(executor.Value.WorkDirectory))))[..8];
        _prefix = $"platform-{name}-{directory}-";
        var stale = layout.Parents().SelectMany(parent => Directory.GetDirectories(parent, _prefix + "*")).Select(Path.GetFileName).Distinct();
        foreach (var left in stale) TaskCgroup.Existing(layout, left!).Remove();
        _idle.Enqueue(Make(64L * 1024 * 1024, 64, 64));
    }

    /// <summary>A cgroup with the task's limits, idle or new.</summary>
    public TaskCgroup Take(long memoryBytes, int? pidsLimit, int memoryInMb)
    {
        while (_idle.TryDequeue(out var idle))
        {
            try
            {
                idle.Limit(memoryBytes, pidsLimit, memoryInMb);
                telemetry.SandboxResourceTaken(ExecutorTelemetry.Cgroup, idle.Served ? ExecutorTelemetry.Reused : ExecutorTelemetry.Prepared);
                return idle;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                idle.Remove(); // e.g. a memory limit below what its last task still has charged
            }
        }
        var cgroup = Make(memoryBytes, pidsLimit, memoryInMb);
        telemetry.SandboxResourceTaken(ExecutorTelemetry.Cgroup, ExecutorTelemetry.New);
        return cgroup;
    }

    private TaskCgroup Make(long memoryBytes, int? pidsLimit, int memoryInMb)
    {
        var cgroup = TaskCgroup.Create(_layout!, _prefix + Interlocked.Increment(ref _count));
        try
        {
            cgroup.Limit(memoryBytes, pidsLimit, memoryInMb);
            return cgroup;
        }
        catch
        {
            cgroup.Remove();
            throw;
        }
    }

    /// <summary>The end of a cgroup's task: kept for the next one when <paramref name="taskGone"/> and nothing argues against it, otherwise removed.</summary>
    public void Return(TaskCgroup cgroup, bool taskGone)
    {
        var charged = taskGone ? cgroup.MemoryCharged() : -1;
        if (taskGone && !_stopping && charged is >= 0 and <= MostChargedToReuse && _idle.Count < MostIdle)
        {
            cgroup.Served = true;
            _idle.Enqueue(cgroup);
        }
        else cgroup.Remove();
    }

    public void Dispose()
    {
        _stopping = true;
        while (_idle.TryDequeue(out var cgroup)) cgroup.Remove();
    }
}
