using System.Diagnostics;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>The machine and the moment a run happened on, so that the figures can be read in context.</summary>
public sealed record Machine(int Cores, double MemoryGiB, string Cpu, string LoadAverage, string Commit, DateTimeOffset At)
{
    public static Machine Describe() => new(
        Environment.ProcessorCount,
        ReadMemInfo("MemTotal:") / 1024.0 / 1024.0,
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown",
        CurrentLoad(),
        Git("rev-parse --short HEAD") + (Git("status --porcelain --untracked-files=no").Length > 0 ? " (with uncommitted changes)" : ""),
        DateTimeOffset.UtcNow);

    /// <summary>1-, 5- and 15-minute load averages: other work sharing the machine shows here.</summary>
    public static string CurrentLoad() => string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static long ReadMemInfo(string key) =>
        long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    private static string Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments) { WorkingDirectory = Repository.Root, RedirectStandardOutput = true })!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
