namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>What <see cref="TaskCgroup"/> writes into and reads from a task's cgroup files, apart from the files themselves.</summary>
internal static class CgroupValues
{
    /// <summary>The CPU weight of a task with this much memory, as v1's <c>cpu.shares</c>: 1,024 shares (a whole default process's) per GiB.</summary>
    public static int CpuShares(int memoryInMb) => Math.Clamp(memoryInMb, 2, 262_144);

    /// <summary>cgroup v2's <c>cpu.weight</c> for a task: its v1 shares (<see cref="CpuShares"/>) scaled so that 1,024 shares are weight 100, within the kernel's 1 to 10,000.</summary>
    public static int CpuWeight(int memoryInMb) => Math.Clamp(CpuShares(memoryInMb) * 100 / 1024, 1, 10_000);

    /// <summary>The value of <paramref name="key"/> in a flat-keyed cgroup file (<c>memory.events</c>, <c>pids.events</c>, v1's <c>memory.oom_control</c>), given as its bytes; 0 when it is not there.</summary>
    public static long Counter(ReadOnlySpan<byte> content, ReadOnlySpan<byte> key)
    {
        while (!content.IsEmpty)
        {
            var end = content.IndexOf((byte)'\n');
            var line = end < 0 ? content : content[..end];
            content = end < 0 ? default : content[(end + 1)..];
            if (line.Length > key.Length && line[key.Length] == (byte)' ' && line.StartsWith(key))
                return System.Buffers.Text.Utf8Parser.TryParse(line[(key.Length + 1)..], out long value, out var used) && used == line.Length - key.Length - 1 ? value : 0;
        }
        return 0;
    }
}
