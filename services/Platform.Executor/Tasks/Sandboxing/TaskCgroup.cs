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
/// termination reaches grandchildren.
/// </summary>
internal sealed class TaskCgroup : IDisposable
{
    private readonly CgroupLayout _layout;
    private readonly string[] _directories;

    private TaskCgroup(CgroupLayout layout, string[] directories, string memory, string? pids)
    {
        _layout = layout;
        _directories = directories;
        MemoryPath = memory;
        PidsPath = pids;
    }

    public string MemoryPath { get; }
    public string? PidsPath { get; }

    /// <summary>The files a process writes its pid to in order to join every one of the task's cgroups.</summary>
    public IReadOnlyList<string> ProcsFiles => _directories.Select(d => Path.Combine(d, "cgroup.procs")).ToList();

    /// <summary>The CPU weight of a task with this much memory: 1,024 shares (a whole default process's) per GiB.</summary>
    public static int CpuShares(int memoryInMb) => Math.Clamp(memoryInMb, 2, 262_144);

    public static TaskCgroup Create(CgroupLayout layout, string name, long memoryBytes, int? pidsLimit, int memoryInMb)
    {
        var directories = layout.Parents().Select(p => Path.Combine(p, name)).ToArray();
        foreach (var directory in directories) Directory.CreateDirectory(directory);
        var memory = Path.Combine(layout.Memory, name);
        var pids = layout.Pids is null ? null : Path.Combine(layout.Pids, name);
        var cpu = layout.Cpu is null ? null : Path.Combine(layout.Cpu, name);
        var cgroup = new TaskCgroup(layout, directories, memory, pids);
        if (layout.V2)
        {
            Write(memory, "memory.max", memoryBytes.ToString());
            TryWrite(memory, "memory.swap.max", "0");
            if (pids is not null && pidsLimit is { } limit) Write(pids, "pids.max", limit.ToString());
            // cpu.weight 100 is v1's 1,024 shares.
            if (cpu is not null) Write(cpu, "cpu.weight", CgroupValues.CpuWeight(memoryInMb).ToString());
        }
        else
        {
            Write(memory, "memory.limit_in_bytes", memoryBytes.ToString());
            // Without this, a host with swap lets the task page out instead of hitting the limit.
            TryWrite(memory, "memory.memsw.limit_in_bytes", memoryBytes.ToString());
            if (pids is not null && pidsLimit is { } limit) Write(pids, "pids.max", limit.ToString());
            if (cpu is not null) Write(cpu, "cpu.shares", CpuShares(memoryInMb).ToString());
        }
        return cgroup;
    }

    /// <summary>True when the kernel's OOM killer ended a process of this cgroup.</summary>
    public bool OomKilled() => Counter(MemoryPath, _layout.V2 ? "memory.events" : "memory.oom_control", "oom_kill") > 0;

    /// <summary>True once a fork or clone of the task failed because it had as many processes as its limit allows.</summary>
    public bool PidsLimitReached() => PidsPath is not null && Counter(PidsPath, "pids.events", "max") > 0;

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
    public void Dispose() => _ = RemoveAsync();

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

    private static long Counter(string directory, string file, string key)
    {
        try
        {
            return CgroupValues.Counter(File.ReadAllLines(Path.Combine(directory, file)), key);
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
