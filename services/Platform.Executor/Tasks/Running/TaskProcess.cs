using System.Diagnostics;
using Platform.Executor.Tasks.Runtime;
using Platform.Executor.Tasks.Sandboxing;
using Platform.TaskStore.Logs;

namespace Platform.Executor.Tasks.Running;

/// <summary>How a task's process ended.</summary>
internal sealed record ProcessOutcome(int? ExitCode, string? FailureReason)
{
    public bool Succeeded => ExitCode == 0 && FailureReason is null;
}

/// <summary>
/// Runs a task's command (<see cref="TaskCommand"/>: its program directly, or <c>sh -c command</c>) in its <see cref="Sandbox"/>, reads stdout and stderr line
/// by line into <see cref="TaskOutput"/>, and ends the whole process tree when termination is requested:
/// SIGTERM, then SIGKILL after the grace period. The local runtime: its processes die with the executor, so
/// nothing survives a restart to reattach to.
/// </summary>
internal sealed class TaskProcess(Sandbox sandbox, ILogger<TaskProcess> logger) : ITaskRuntime
{
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PidsLimitPoll = TimeSpan.FromMilliseconds(250);

    public Task ProbeAsync(CancellationToken ct)
    {
        sandbox.Probe();
        return Task.CompletedTask;
    }

    public bool EnforcesTimeout => false;

    public Task<IReadOnlySet<Guid>> FindSurvivorsAsync(CancellationToken ct) => Task.FromResult<IReadOnlySet<Guid>>(new HashSet<Guid>());

    public Task<ProcessOutcome> ReattachAsync(ClaimedTask task, TaskOutput output, TaskTermination termination, DateTimeOffset? storedUpTo) =>
        throw new NotSupportedException("A local task's process does not outlive its executor.");

    public Task CollectAsync(IReadOnlySet<Guid> keep, CancellationToken ct) => Task.CompletedTask;

    public async Task<ProcessOutcome> RunAsync(ClaimedTask task, TaskOutput output, TaskTermination termination)
    {
        using var prepared = await sandbox.PrepareAsync(task, termination.Requested);
        var process = prepared.Process;
        try
        {
            prepared.Run(task);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return new ProcessOutcome(null, $"the process could not start: {ex.Message}");
        }
        Activity.Current?.SetTag("process.pid", process.Id);
        var pumps = Task.WhenAll(
            output.PumpAsync(process.StandardOutput, LogStream.Stdout),
            output.PumpAsync(process.StandardError, LogStream.Stderr));

        using var watching = new CancellationTokenSource();
        var limits = WatchPidsLimitAsync(prepared, termination, watching.Token);
        try
        {
            await process.WaitForExitAsync(termination.Requested);
        }
        catch (OperationCanceledException)
        {
            await EndTreeAsync(process, prepared, termination.GracePeriod, task);
        }
        await watching.CancelAsync();
        await limits;
        await DrainAsync(pumps, task);

        return LocalOutcome(termination.Reason, prepared.OomKilled(), process.ExitCode, task.MemoryInMb);
    }

    /// <summary>
    /// What a local task's end means: a requested termination (cancel, timeout, the process limit) names its
    /// reason whatever the exit code; a kill by the OOM killer names the memory limit; otherwise the exit code decides.
    /// </summary>
    internal static ProcessOutcome LocalOutcome(string? terminationReason, bool oomKilled, int exitCode, int memoryInMb) =>
        terminationReason is { } reason ? new ProcessOutcome(null, reason)
        : oomKilled ? new ProcessOutcome(exitCode, $"memory limit of {memoryInMb} MB exceeded: the task was killed (exit code {exitCode})")
        : new ProcessOutcome(exitCode, exitCode == 0 ? null : $"exited with code {exitCode}");

    /// <summary>
    /// A task at its process limit cannot fork, but a fork bomb keeps trying for ever: once the limit has been
    /// hit, the task is ended at once (no grace period) with a reason that names the limit.
    /// </summary>
    private static async Task WatchPidsLimitAsync(SandboxedProcess prepared, TaskTermination termination, CancellationToken ct)
    {
        if (prepared.PidsLimit is not { } limit) return;
        using var timer = new PeriodicTimer(PidsLimitPoll);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                if (!prepared.PidsLimitReached()) continue;
                termination.Request($"process limit of {limit} exceeded: the task was killed", TimeSpan.Zero);
                return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task EndTreeAsync(Process process, SandboxedProcess prepared, TimeSpan grace, ClaimedTask task)
    {
        prepared.Signal(Signals.Term);
        using var graceOver = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(graceOver.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("Task {TaskId} still running {Grace} after SIGTERM; sending SIGKILL", task.TaskId, grace);
            prepared.Signal(Signals.Kill);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    // Unsandboxed, a background child that outlives the shell may hold the pipes open; do not wait forever.
    private async Task DrainAsync(Task pumps, ClaimedTask task)
    {
        if (await Task.WhenAny(pumps, Task.Delay(OutputDrainTimeout)) != pumps)
            logger.LogWarning("Task {TaskId}: output pipes still open {Timeout} after exit; a child process outlived the task", task.TaskId, OutputDrainTimeout);
    }
}
