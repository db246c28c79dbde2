using System.ComponentModel.DataAnnotations;

namespace Platform.Executor;

/// <summary>How one executor instance runs tasks.</summary>
public sealed class ExecutorOptions
{
    public const string Section = "Executor";

    /// <summary>This instance's name, recorded on every task it claims. Must be unique among running executors.</summary>
    [Required]
    public string Name { get; set; } = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}";

    /// <summary>How many task processes may run at once on this instance.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentTasks { get; set; } = 8;

    /// <summary>How many RunTask messages this instance claims at once (and prefetches from RabbitMQ).</summary>
    [Range(1, 64)]
    public int ClaimConcurrency { get; set; } = 4;

    /// <summary>Where each task's private scratch directory is made; removed when the task ends.</summary>
    [Required]
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "platform-executor");

    /// <summary>The shell that runs a task's command as <c>shell -c command</c>.</summary>
    [Required]
    public string Shell { get; set; } = "/bin/sh";
}
