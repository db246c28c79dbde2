namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// Where this executor may make task cgroups: its own cgroup of each controller (cgroup v1 mounts one
/// hierarchy per controller; v2 has one directory for all). Null controllers are ones the host does not offer.
/// </summary>
internal sealed record CgroupLayout(bool V2, string Memory, string? Pids, string? Cpu)
{
    /// <summary>The executor's own cgroups, or null when there is no writable memory controller to put tasks under.</summary>
    public static CgroupLayout? Find()
    {
        if (!File.Exists("/proc/self/cgroup")) return null;
        var entries = File.ReadAllLines("/proc/self/cgroup").Select(l => l.Split(':', 3)).Where(p => p.Length == 3).ToList();
        // v1: "4:memory:/path" under /sys/fs/cgroup/<controller>; "1:cpu,cpuacct:/" is mounted at .../cpu,cpuacct (and linked as cpu).
        string? V1(string controller)
        {
            var entry = entries.FirstOrDefault(p => p[1].Split(',').Contains(controller));
            var mount = $"/sys/fs/cgroup/{controller}";
            return entry is not null && Directory.Exists(mount) ? mount + entry[2].TrimEnd('/') : null;
        }
        if (V1("memory") is { } memory) return new CgroupLayout(false, memory, V1("pids"), V1("cpu"));

        var unified = entries.FirstOrDefault(p => p[0] == "0" && p[1] == "");
        if (unified is null || !File.Exists("/sys/fs/cgroup/cgroup.controllers")) return null;
        var path = "/sys/fs/cgroup" + unified[2].TrimEnd('/');
        var control = Path.Combine(path, "cgroup.subtree_control");
        var enabled = File.Exists(control) ? File.ReadAllText(control).Split(' ', '\n') : [];
        if (!enabled.Contains("memory")) return null;
        return new CgroupLayout(true, path, enabled.Contains("pids") ? path : null, enabled.Contains("cpu") ? path : null);
    }

    /// <summary>Every directory a task's cgroup has, one per hierarchy.</summary>
    public IEnumerable<string> Parents() => V2 ? [Memory] : new[] { Memory, Pids, Cpu }.OfType<string>().Distinct();
}

/// <summary>
/// The cgroups of one task: its memory limit (the kernel's OOM killer ends the tree past it), its process
/// limit (fork fails past it, and the executor ends the task), and its CPU weight, proportional to its
/// memory as Cloud Foundry's is. The memory cgroup also lists every process the task started, so that
/// termination reaches grandchildren. A cgroup serves one task at a time and, once every process of that
/// task is gone, may serve the next (<see cref="TaskCgroups"/>): its counters are read against what they
/// were when the task took it.
/// </summary>
internal sealed class TaskCgroup
{
    private readonly CgroupLayout _layout;
    private readonly string[] _directories;
    private readonly string? _cpuPath;
    private readonly string _oomCounterFile;
    private readonly string? _pidsCounterFile;
    private long _memoryBytes = -1;
    private int? _pidsLimit;
    private int _cpuShares = -1;
    private long _oomKillsBefore;
    private long _pidsRefusedBefore;

    private TaskCgroup(CgroupLayout layout, string name)
    {
        _layout = layout;
        _directories = layout.Parents().Select(p => Path.Combine(p, name)).ToArray();
        MemoryPath = Path.Combine(layout.Memory, name);
        PidsPath = layout.Pids is null ? null : Path.Combine(layout.Pids, name);
        _cpuPath = layout.Cpu is null ? null : Path.Combine(layout.Cpu, name);
        _oomCounterFile = Path.Combine(MemoryPath, layout.V2 ? "memory.events" : "memory.oom_control");
        _pidsCounterFile = PidsPath is null ? null : Path.Combine(PidsPath, "pids.events");
    }

    public string MemoryPath { get; }
    public string? PidsPath { get; }

    /// <summary>Whether it went back to the pool after a task (rather than being made ahead of demand).</summary>
    public bool Served { get; set; }

    /// <summary>The files a process writes its pid to in order to join every one of the task's cgroups.</summary>
    public IReadOnlyList<string> ProcsFiles => _directories.Select(d => Path.Combine(d, "cgroup.procs")).ToList();

    /// <summary>One that exists already (left by an earlier run of the executor, to be removed).</summary>
    public static TaskCgroup Existing(CgroupLayout layout, string name) => new(layout, name);

    /// <summary>Makes the directories, one per hierarchy, with no limit yet (<see cref="Limit"/>).</summary>
    public static TaskCgroup Create(CgroupLayout layout, string name)
    {
        var cgroup = new TaskCgroup(layout, name);
        foreach (var directory in cgroup._directories) Directory.CreateDirectory(directory);
        return cgroup;
    }

    /// <summary>
    /// Sets the next task's limits (only the ones that differ from the last task's: each write is a system
    /// call on the start path) and notes the counters as they are now. Throws an IOException when the kernel
    /// refuses a limit, e.g. a memory limit below what is still charged here.
    /// </summary>
    public void Limit(long memoryBytes, int? pidsLimit, int memoryInMb)
    {
        if (memoryBytes != _memoryBytes)
        {
            if (_layout.V2)
            {
                Write(MemoryPath, "memory.max", memoryBytes.ToString());
                TryWrite(MemoryPath, "memory.swap.max", "0");
            }
            else
            {
                // Without a memory+swap limit a host with swap lets the task page out instead of hitting the
                // limit. It may never be below the memory limit: raised first, otherwise set second (a new
                // cgroup's memory limit is unlimited).
                var raising = _memoryBytes >= 0 && memoryBytes > _memoryBytes;
                if (raising) TryWrite(MemoryPath, "memory.memsw.limit_in_bytes", memoryBytes.ToString());
                Write(MemoryPath, "memory.limit_in_bytes", memoryBytes.ToString());
                if (!raising) TryWrite(MemoryPath, "memory.memsw.limit_in_bytes", memoryBytes.ToString());
            }
            _memoryBytes = memoryBytes;
        }
        if (PidsPath is not null && pidsLimit != _pidsLimit)
        {
            Write(PidsPath, "pids.max", pidsLimit?.ToString() ?? "max");
            _pidsLimit = pidsLimit;
        }
        var shares = CgroupValues.CpuShares(memoryInMb);
        if (_cpuPath is not null && shares != _cpuShares)
        {
            if (_layout.V2) Write(_cpuPath, "cpu.weight", CgroupValues.CpuWeight(memoryInMb).ToString());
            else Write(_cpuPath, "cpu.shares", shares.ToString());
            _cpuShares = shares;
        }
        _oomKillsBefore = OomKills();
        _pidsRefusedBefore = PidsRefused();
    }

    /// <summary>True when the kernel's OOM killer ended a process of this cgroup during the current task.</summary>
    public bool OomKilled() => OomKills() > _oomKillsBefore;

    /// <summary>True once a fork or clone of the current task failed because it had as many processes as its limit allows.</summary>
    public bool PidsLimitReached() => PidsRefused() > _pidsRefusedBefore;

    private long OomKills() => Counter(_oomCounterFile, "oom_kill"u8);

    private long PidsRefused() => _pidsCounterFile is null ? 0 : Counter(_pidsCounterFile, "max"u8);

    /// <summary>The memory still charged to the cgroup (page cache the last task read, say), or -1 when it cannot be read.</summary>
    public long MemoryCharged()
    {
        try
        {
            return long.Parse(File.ReadAllText(Path.Combine(MemoryPath, _layout.V2 ? "memory.current" : "memory.usage_in_bytes")).Trim());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }

    public IReadOnlyList<int> Processes()
    {
        var file = Path.Combine(MemoryPath, "cgroup.procs");
        try
        {
            return File.ReadAllLines(file).Where(l => l.Length > 0).Select(int.Parse).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>True when the task has no process left; false when that cannot be read.</summary>
    public bool Empty()
    {
        try
        {
            return File.ReadAllText(Path.Combine(MemoryPath, "cgroup.procs")).Trim().Length == 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits until no process of the task is left, killing any that are: the sandbox's monitor has been
    /// reaped when a task ends, but processes of the tree may still be on their way out. False if some
    /// remain after about a second.
    /// </summary>
    public async Task<bool> EmptiedAsync()
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (Empty()) return true;
            Signal(Signals.Kill);
            await Task.Delay(50);
        }
        return Empty();
    }

    /// <summary>Signals every process of the task except <paramref name="except"/> (the sandbox's own monitor).</summary>
    public void Signal(int signal, int? except = null)
    {
        foreach (var pid in Processes())
            if (pid != except) Signals.Send(pid, signal);
    }

    /// <summary>
    /// Removes the cgroups in the background: once the task's processes are gone the kernel still needs a
    /// moment before a directory can go (EBUSY meanwhile), and neither the task's end nor a thread of
    /// the pool should wait for that.
    /// </summary>
    public void Remove() => _ = RemoveAsync();

    private async Task RemoveAsync()
    {
        foreach (var directory in _directories)
        {
            for (var attempt = 0; attempt < 100 && Directory.Exists(directory); attempt++)
            {
                try
                {
                    Signal(Signals.Kill);
                    Directory.Delete(directory);
                }
                catch (IOException)
                {
                    await Task.Delay(20 * Math.Min(attempt + 1, 10));
                }
                catch (UnauthorizedAccessException)
                {
                    break;
                }
            }
        }
    }

    // Read before and after every task and every 250 ms while one runs: one open, one read into the stack and
    // one close, where File.ReadAllLines cost a stream, a reader and a string per line (about 3 % of an
    // executor's CPU under load). The files are a few short lines.
    private static long Counter(string file, ReadOnlySpan<byte> key)
    {
        try
        {
            Span<byte> content = stackalloc byte[512];
            using var handle = File.OpenHandle(file);
            return CgroupValues.Counter(content[..RandomAccess.Read(handle, content, 0)], key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static void Write(string directory, string file, string value) => File.WriteAllText(Path.Combine(directory, file), value);

    private static void TryWrite(string directory, string file, string value)
    {
        try
        {
            Write(directory, file, value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
