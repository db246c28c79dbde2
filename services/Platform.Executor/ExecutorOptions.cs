using System.ComponentModel.DataAnnotations;
using Platform.ServiceDefaults;

namespace Platform.Executor;

/// <summary>How one executor instance runs tasks.</summary>
public sealed class ExecutorOptions
{
    public const string Section = "Executor";

    /// <summary>This instance's name, recorded on every task it claims. Must be unique among running executors.</summary>
    [Required]
    public string Name { get; set; } = ServiceDefaultsRegistration.ReplicaName;

    /// <summary>How many task processes may run at once on this instance.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentTasks { get; set; } = 8;

    /// <summary>How many RunTask messages this instance claims at once (and prefetches from RabbitMQ).</summary>
    [Range(1, 64)]
    public int ClaimConcurrency { get; set; } = 4;

    /// <summary>Where each task's private scratch directory is made; removed when the task ends.</summary>
    [Required]
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "platform-executor");

    /// <summary>
    /// How long this executor's lease on its running tasks lasts without renewal. When it runs out (the
    /// executor was killed, its machine went away), any executor fails those tasks, naming the lost one.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the lease is renewed, and orphaned tasks of other executors looked for.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A task still PENDING this long after it was last dispatched is published again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RedispatchAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The RabbitMQ users whose RunTask messages are the platform's own (the Api's, the Scheduler's, the
    /// Executors' re-dispatches), comma-separated. Any other publisher is authorised as the service account
    /// mapped to its user (<c>rabbitmq_user</c>), by its role in the app's space.
    /// </summary>
    [Required]
    public string TrustedPublishers { get; set; } = "platform-api,platform-scheduler,platform-executor";

    public IReadOnlySet<string> TrustedPublisherSet => TrustedPublishers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();

    /// <summary>
    /// On shutdown (SIGTERM), how long running tasks may go on to finish by themselves once the executor
    /// has stopped taking new ones. What still runs then is terminated (SIGTERM, its grace period, SIGKILL)
    /// and recorded FAILED "executor ... shut down", or requeued where its max_attempts allows.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DrainPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where tasks run: <see cref="TaskRuntimeKind.Local"/> in a sandbox on this host, or
    /// <see cref="TaskRuntimeKind.Kubernetes"/> as Pods on a cluster (<c>Executor:Kubernetes</c>).
    /// </summary>
    [EnumDataType(typeof(TaskRuntimeKind))]
    public TaskRuntimeKind Runtime { get; set; } = TaskRuntimeKind.Local;
}

/// <summary>The task runtimes an executor can use (<see cref="ExecutorOptions.Runtime"/>).</summary>
public enum TaskRuntimeKind
{
    Local,
    Kubernetes,
}
