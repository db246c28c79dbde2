using Platform.Executor.Tasks.Running;

namespace Platform.Executor.Tasks.Runtime;

/// <summary>
/// Where and how a claimed task's command runs (<see cref="ExecutorOptions.Runtime"/>): on this host in a
/// sandbox (<see cref="TaskProcess"/>), or as a Pod on a Kubernetes cluster (<see cref="Kubernetes.KubernetesRuntime"/>).
/// The runner around it (claiming, recording the end, announcing it, draining) is the same for both.
/// </summary>
internal interface ITaskRuntime
{
    /// <summary>Checked once at start-up, before any task is taken; throws, naming the problem, when tasks cannot run this way.</summary>
    Task ProbeAsync(CancellationToken ct);

    /// <summary>
    /// Whether the runtime ends a task at its <c>timeout_seconds</c> itself (and says so in the outcome). When
    /// not, the runner requests termination when the timeout has passed.
    /// </summary>
    bool EnforcesTimeout { get; }

    /// <summary>
    /// Starts the task and follows it to its end: its output (stdout and stderr) goes to <paramref name="output"/>
    /// as it comes; when <paramref name="termination"/> is requested the task gets SIGTERM, then SIGKILL after the
    /// grace period. Returns the exit code and, when it did not succeed, why.
    /// </summary>
    Task<ProcessOutcome> RunAsync(ClaimedTask task, TaskOutput output, TaskTermination termination);

    /// <summary>The tasks this executor started that still run (or have ended unobserved) after the executor itself restarted.</summary>
    Task<IReadOnlySet<Guid>> FindSurvivorsAsync(CancellationToken ct);

    /// <summary>
    /// Follows a survivor (<see cref="FindSurvivorsAsync"/>) to its end as <see cref="RunAsync"/> would; output
    /// the store already holds (up to <paramref name="storedUpTo"/>) is not stored again.
    /// </summary>
    Task<ProcessOutcome> ReattachAsync(ClaimedTask task, TaskOutput output, TaskTermination termination, DateTimeOffset? storedUpTo);

    /// <summary>
    /// Removes what is left of tasks that do not run any more (their task ended, was reaped or deleted), except
    /// <paramref name="keep"/>: called at start-up, once survivors were reattached.
    /// </summary>
    Task CollectAsync(IReadOnlySet<Guid> keep, CancellationToken ct);
}
