namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// Where the machine's CPU went during a piece of work, per unit (a task): read from /proc before and after,
/// grouped by program (each .NET service by its assembly, PostgreSQL, RabbitMQ, the benchmark itself).
/// A process's exited children are counted with it (the executors' tasks with the executors, or with init
/// when their parent ended before them). Processes that start and end inside the interval are only in the
/// machine's total.
/// </summary>
public sealed class CpuProfile
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly Dictionary<int, (string Program, double Seconds)> _processes;
    private readonly double _machineSeconds;

    private CpuProfile(Dictionary<int, (string, double)> processes, double machineSeconds)
    {
        _processes = processes;
        _machineSeconds = machineSeconds;
    }

    public static CpuProfile Take()
    {
        var processes = new Dictionary<int, (string, double)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // Fields after the command (which may hold spaces) start after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(fields[11]) + long.Parse(fields[12]) + long.Parse(fields[13]) + long.Parse(fields[14]);
                processes[pid] = (pid == 1 ? Init : Program(directory, stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')]), ticks / TicksPerSecond);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended while being read.
            }
        }
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // user nice system idle iowait irq softirq steal: everything but idle and iowait is work.
        var busy = new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(cpu[i]));
        return new CpuProfile(processes, busy / TicksPerSecond);
    }

    // The machine's first process adopts the processes whose parent ended first and counts their CPU when it
    // reaps them (with bubblewrap, the inner processes of a sandboxed task mostly ended up there).
    private const string Init = "init (orphans it reaped: sandboxed tasks' processes)";

    private static string Program(string directory, string command)
    {
        if (command == "dotnet")
        {
            var arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
            var assembly = arguments.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal));
            return assembly is null ? "dotnet (other)" : Path.GetFileNameWithoutExtension(assembly);
        }
        if (command.StartsWith("postgres", StringComparison.Ordinal)) return "PostgreSQL";
        // A kernel worker's name carries the queue it serves at the moment (kworker/0:1-events, -cgroup_offline...).
        if (command.StartsWith("kworker/", StringComparison.Ordinal)) return "kernel workers (kworker)";
        if (command is "beam.smp" or "erl_child_setup" or "epmd" or "inet_gethost") return "RabbitMQ";
        return command;
    }

    /// <summary>CPU milliseconds per unit since <paramref name="before"/>, by program, busiest first.</summary>
    public string DescribeSince(CpuProfile before, double units)
    {
        var byProgram = _processes
            // By pid, not by name: a kernel worker that changed queues in between was once counted with its whole life's CPU.
            .Select(p => (p.Value.Program, Seconds: p.Value.Seconds - (before._processes.TryGetValue(p.Key, out var then) && then.Seconds <= p.Value.Seconds ? then.Seconds : 0)))
            .GroupBy(p => p.Program)
            .Select(g => (Program: g.Key, Ms: g.Sum(p => p.Seconds) * 1000 / units))
            .Where(p => p.Ms >= 0.05)
            .OrderByDescending(p => p.Ms);
        var total = (_machineSeconds - before._machineSeconds) * 1000 / units;
        return $"{total:0.0} CPU ms per task on the whole machine: " + string.Join(", ", byProgram.Select(p => $"{p.Program} {p.Ms:0.0}"));
    }
}
