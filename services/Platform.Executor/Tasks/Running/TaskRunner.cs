using System.Collections.Concurrent;
using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// Runs claimed tasks in the background, at most <see cref="ExecutorOptions.MaxConcurrentTasks"/> at once,
/// and records each one's end: its output stored first, then the terminal event, then
/// <see cref="TaskCompleted"/>. On shutdown, running tasks are ended and recorded as failed with a reason
/// that names this executor, rather than left in RUNNING.
/// </summary>
internal sealed class TaskRunner : IHostedService
{
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<Guid, Running> _running = new();
    private readonly IDocumentStore _store;
    private readonly TaskProcess _process;
    private readonly TaskLogStore _logs;
    private readonly IBus _bus;
    private readonly TimeProvider _clock;
    private readonly ILogger<TaskRunner> _logger;

    private sealed record Running(CancellationTokenSource Terminate, Task Completion)
    {
        public string? Reason { get; set; }
    }

    public TaskRunner(IOptions<ExecutorOptions> options, IDocumentStore store, TaskProcess process, TaskLogStore logs,
        IBus bus, TimeProvider clock, ILogger<TaskRunner> logger)
    {
        ExecutorName = options.Value.Name;
        _slots = new SemaphoreSlim(options.Value.MaxConcurrentTasks);
        _store = store;
        _process = process;
        _logs = logs;
        _bus = bus;
        _clock = clock;
        _logger = logger;
    }

    public string ExecutorName { get; }

    public Task WaitForSlotAsync(CancellationToken ct) => _slots.WaitAsync(ct);

    public void ReleaseSlot() => _slots.Release();

    /// <summary>Starts a claimed task; its slot is released when it has been recorded as ended.</summary>
    public void Start(ClaimedTask task)
    {
        var terminate = new CancellationTokenSource();
        var gate = new TaskCompletionSource();
        var running = new Running(terminate, gate.Task);
        _running[task.TaskId] = running;
        _ = Task.Run(async () =>
        {
            try
            {
                await RunAsync(task, running);
            }
            finally
            {
                _running.TryRemove(task.TaskId, out _);
                terminate.Dispose();
                _slots.Release();
                gate.SetResult();
            }
        });
    }

    private async Task RunAsync(ClaimedTask task, Running running)
    {
        ProcessOutcome outcome;
        await using (var output = new TaskOutput(task.TaskId, _logs, _clock, _logger))
        {
            try
            {
                outcome = await _process.RunAsync(task, output, running.Terminate.Token);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Task {TaskId} could not be run", task.TaskId);
                outcome = new ProcessOutcome(null, $"the executor could not run the task: {ex.Message}");
            }
            if (running.Reason is { } reason) outcome = outcome with { FailureReason = reason };
            if (outcome.FailureReason is { } failure) await output.AddAsync(LogStream.Stderr, $"[platform] task failed: {failure}");
        }

        var endedAt = _clock.GetUtcNow();
        await RecordEndAsync(task, TaskLifecycle.Complete(task.TaskId, outcome.ExitCode, outcome.FailureReason, endedAt));
        await _bus.Publish(new TaskCompleted
        {
            TaskId = task.TaskId,
            App = task.App,
            Succeeded = outcome.Succeeded,
            ExitCode = outcome.ExitCode,
            FailureReason = outcome.FailureReason,
            Executor = ExecutorName,
            CompletedAt = endedAt,
        });
        if (running.Reason is not null)
        {
            await _bus.Publish(new TaskTerminated { TaskId = task.TaskId, App = task.App, Reason = running.Reason, TerminatedAt = endedAt });
        }
    }

    // The end of a task must be recorded even across a database restart: retry, with backoff, for minutes.
    private async Task RecordEndAsync(ClaimedTask task, object terminal)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var session = _store.LightweightSession();
                session.Events.Append(task.TaskId, terminal);
                await session.SaveChangesAsync();
                return;
            }
            catch (Exception ex) when (attempt < 60)
            {
                _logger.LogWarning(ex, "Recording the end of task {TaskId} failed (attempt {Attempt}); retrying", task.TaskId, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt * attempt)));
            }
        }
    }

    /// <summary>Ends a running task's process tree; false when this executor is not running it.</summary>
    public bool Terminate(Guid taskId, string reason)
    {
        if (!_running.TryGetValue(taskId, out var running)) return false;
        running.Reason ??= reason;
        running.Terminate.Cancel();
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var taskId in _running.Keys) Terminate(taskId, $"executor {ExecutorName} shut down while the task ran");
        await Task.WhenAll(_running.Values.Select(r => r.Completion)).WaitAsync(cancellationToken);
    }
}
