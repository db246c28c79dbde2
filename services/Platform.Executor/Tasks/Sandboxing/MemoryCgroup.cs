namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// A memory cgroup of its own for one task: the limit holds for the task's whole process tree, the kernel's
/// OOM killer ends the tree when it is exceeded, and the cgroup lists every process the task started (so
/// termination reaches grandchildren). cgroup v1 (<c>memory.limit_in_bytes</c>) and v2 (<c>memory.max</c>).
/// </summary>
internal sealed class MemoryCgroup : IDisposable
{
    private readonly bool _v2;

    private MemoryCgroup(string path, bool v2)
    {
        Path = path;
        _v2 = v2;
    }

    public string Path { get; }

    /// <summary>The file a process writes its pid to in order to join.</summary>
    public string ProcsFile => System.IO.Path.Combine(Path, "cgroup.procs");

    /// <summary>The parent under which task cgroups are made: the executor's own memory cgroup. Null when there is none we can use.</summary>
    public static (string Path, bool V2)? FindParent()
    {
        if (!File.Exists("/proc/self/cgroup")) return null;
        var lines = File.ReadAllLines("/proc/self/cgroup");
        // v1: "4:memory:/path"; v2: "0::/path".
        var v1 = lines.Select(l => l.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[1].Split(',').Contains("memory"));
        if (v1 is not null && Directory.Exists("/sys/fs/cgroup/memory"))
            return ("/sys/fs/cgroup/memory" + v1[2].TrimEnd('/'), false);
        var v2 = lines.Select(l => l.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[0] == "0" && p[1] == "");
        if (v2 is not null && File.Exists("/sys/fs/cgroup/cgroup.controllers"))
        {
            var path = "/sys/fs/cgroup" + v2[2].TrimEnd('/');
            var controllers = System.IO.Path.Combine(path, "cgroup.subtree_control");
            if (File.Exists(controllers) && File.ReadAllText(controllers).Split(' ', '\n').Contains("memory")) return (path, true);
        }
        return null;
    }

    public static MemoryCgroup Create((string Path, bool V2) parent, string name, long limitBytes)
    {
        var path = System.IO.Path.Combine(parent.Path, name);
        Directory.CreateDirectory(path);
        var cgroup = new MemoryCgroup(path, parent.V2);
        if (parent.V2)
        {
            cgroup.Write("memory.max", limitBytes.ToString());
            cgroup.TryWrite("memory.swap.max", "0");
        }
        else
        {
            cgroup.Write("memory.limit_in_bytes", limitBytes.ToString());
            // Without this, a host with swap lets the task page out instead of hitting the limit.
            cgroup.TryWrite("memory.memsw.limit_in_bytes", limitBytes.ToString());
        }
        return cgroup;
    }

    /// <summary>True when the kernel's OOM killer ended a process of this cgroup.</summary>
    public bool OomKilled()
    {
        var file = System.IO.Path.Combine(Path, _v2 ? "memory.events" : "memory.oom_control");
        if (!File.Exists(file)) return false;
        return File.ReadAllLines(file).Select(l => l.Split(' ')).Any(p => p.Length == 2 && p[0] == "oom_kill" && long.TryParse(p[1], out var n) && n > 0);
    }

    public IReadOnlyList<int> Processes() =>
        File.Exists(ProcsFile)
            ? File.ReadAllLines(ProcsFile).Where(l => l.Length > 0).Select(int.Parse).ToList()
            : [];

    /// <summary>Signals every process of the task except <paramref name="except"/> (the sandbox's own monitor).</summary>
    public void Signal(int signal, int? except = null)
    {
        foreach (var pid in Processes())
            if (pid != except) Signals.Send(pid, signal);
    }

    /// <summary>
    /// Removes the cgroup in the background: once the task's processes are gone the kernel still needs a
    /// moment before the directory can go (EBUSY meanwhile), and neither the task's end nor a thread of
    /// the pool should wait for that.
    /// </summary>
    public void Dispose() => _ = RemoveAsync();

    private async Task RemoveAsync()
    {
        for (var attempt = 0; attempt < 100 && Directory.Exists(Path); attempt++)
        {
            try
            {
                Signal(Signals.Kill);
                Directory.Delete(Path);
            }
            catch (IOException)
            {
                await Task.Delay(20 * Math.Min(attempt + 1, 10));
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private void Write(string file, string value) => File.WriteAllText(System.IO.Path.Combine(Path, file), value);

    private void TryWrite(string file, string value)
    {
        try
        {
            Write(file, value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
