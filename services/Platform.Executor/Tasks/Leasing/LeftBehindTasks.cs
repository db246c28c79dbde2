using Marten;
using Microsoft.Extensions.Options;
using Platform.Executor.Tasks.Running;
using Platform.Executor.Tasks.Runtime;
using Platform.Reaping;
using Platform.TaskStore.Leases;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Leasing;

/// <summary>
/// At start-up, the tasks a previous run of this executor (same <see cref="ExecutorOptions.Name"/>) left
/// RUNNING or CANCELING: those whose run survived it in the runtime (a Pod on Kubernetes) are reattached and
/// followed to their end; the others died with it and are reaped (FAILED, or requeued where max_attempts
/// allows). Then the runtime removes what is left of tasks that no longer run. The lease was renewed just
/// before, so no other service reaps these tasks meanwhile.
/// </summary>
internal sealed class LeftBehindTasks(
    ExecutorLeases leases, LostTaskReaper reaper, ITaskRuntime runtime, TaskRunner runner, IDocumentStore store, TaskLogStore logs,
    IOptions<ExecutorOptions> options, ILogger<LeftBehindTasks> logger)
{
    public async Task SettleAsync(DateTimeOffset startedAt, CancellationToken ct)
    {
        var name = options.Value.Name;
        var survivors = await runtime.FindSurvivorsAsync(ct);
        var reattached = new HashSet<Guid>();
        foreach (var orphan in await leases.FindLeftBehindAsync(name, startedAt, ct))
        {
            if (survivors.Contains(orphan.TaskId) && await ReattachAsync(orphan.TaskId, ct))
            {
                reattached.Add(orphan.TaskId);
                continue;
            }
            await reaper.ReapAsync(orphan, $"executor {name} restarted while the task ran", ct);
        }
        try
        {
            await runtime.CollectAsync(reattached, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Leftovers cost space, not correctness: the next start collects them.
            logger.LogWarning(ex, "Removing what is left of ended tasks failed");
        }
    }

    private async Task<bool> ReattachAsync(Guid taskId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        if (await session.LoadAsync<AppTask>(taskId, ct) is not { State: TaskState.Running or TaskState.Canceling } task) return false;
        var storedUpTo = await LastLineAtAsync(taskId, ct);
        var claimed = new ClaimedTask(task.Id, task.App, task.SequenceId, task.Name, task.Command, task.MemoryInMb, task.DiskInMb,
            new Dictionary<string, string>(), task.CreatedAt, task.StartedAt ?? task.UpdatedAt, task.TimeoutSeconds,
            task.TerminationGracePeriodSeconds ?? TaskDefinition.DefaultGracePeriodSeconds, task.Attempt, Space: task.Space);
        logger.LogInformation("Task {TaskId} of app {App} outlived the restart of executor {Executor}: reattached", task.Id, task.App, options.Value.Name);
        runner.Reattach(claimed, task.State == TaskState.Canceling ? task.CancelReason ?? "the task was cancelled" : null, storedUpTo);
        return true;
    }

    private async Task<DateTimeOffset?> LastLineAtAsync(Guid taskId, CancellationToken ct)
    {
        var last = await logs.LastSequenceAsync(taskId, ct);
        if (last == 0) return null;
        var lines = await logs.ReadAsync(taskId, last - 1, 1, ct);
        return lines.Count > 0 ? lines[0].Timestamp : null;
    }
}
