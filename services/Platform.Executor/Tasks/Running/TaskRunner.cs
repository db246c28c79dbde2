using System.Collections.Concurrent;
using System.Diagnostics;
using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Executor.Tasks.Draining;
using Platform.Executor.Telemetry;
using Platform.Executor.Tasks.Runtime;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// Runs claimed tasks in the background, at most <see cref="ExecutorOptions.MaxConcurrentTasks"/> at once,
/// and records each one's end: its output stored first, then the terminal event, then
/// <see cref="TaskCompleted"/> (and <see cref="TaskTerminated"/> when it was ended on request). On
/// shutdown it drains: it stops taking RunTasks at once (<see cref="RunTaskIntake"/>), lets running tasks
/// finish for <see cref="ExecutorOptions.DrainPeriod"/>, then ends the rest and records them failed with a
/// reason that names this executor, or requeued where their max_attempts allows, rather than left RUNNING.
/// </summary>
internal sealed class TaskRunner : IHostedService
{
    // A TerminateTask can overtake the start of the task it names (it is published once the claim is
    // stored); such requests wait here briefly for the task to start.
    private static readonly TimeSpan EarlyTerminationMemory = TimeSpan.FromMinutes(2);
    // How long ended tasks may take to be recorded after the shutdown request before the ones left are named in the log.
    private static readonly TimeSpan ShutdownStragglerWarning = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, Running> _running = new();
    private readonly ConcurrentDictionary<Guid, (string Reason, TimeSpan? Grace, DateTimeOffset At)> _earlyTerminations = new();
    private readonly IDocumentStore _store;
    private readonly ITaskRuntime _runtime;
    private readonly TaskLogStore _logs;
    private readonly IBus _bus;
    private readonly TimeProvider _clock;
    private readonly ExecutorTelemetry _telemetry;
    private readonly ILogger<TaskRunner> _logger;
    private readonly RunTaskIntake _intake;
    private readonly TimeSpan _drainPeriod;
    private readonly TimeSpan _requeueAfter;

    private sealed record Running(TaskTermination Termination, Task Completion);

    public TaskRunner(IOptions<ExecutorOptions> options, IDocumentStore store, ITaskRuntime runtime, TaskLogStore logs,
        IBus bus, TimeProvider clock, ExecutorTelemetry telemetry, RunTaskIntake intake, ILogger<TaskRunner> logger)
    {
        _intake = intake;
        _drainPeriod = options.Value.DrainPeriod;
        _requeueAfter = options.Value.RedispatchAfter;
        ExecutorName = options.Value.Name;
        _store = store;
        _runtime = runtime;
        _logs = logs;
        _bus = bus;
        _clock = clock;
        _telemetry = telemetry;
        _logger = logger;
    }

    public string ExecutorName { get; }

    /// <summary>Frees the slot a delivery took (<see cref="RunTaskIntake"/>) when its claim failed or was dropped.</summary>
    public void ReleaseSlot() => _intake.Release();

    /// <summary>
    /// Starts a claimed task; its slot is released when it has been recorded as ended. The run's span is a
    /// child of <paramref name="trace"/> (the consume span that claimed the task), so the run stays in the
    /// task's trace although it continues after the consumer has returned.
    /// </summary>
    /// <paramref name="announced"/> completes once the task's start has been announced; its end is announced after it.
    public void Start(ClaimedTask task, ActivityContext trace, Task announced) => Run(task, trace, announced, reattach: null, holdsSlot: true);

    /// <summary>
    /// Follows a task that outlived a restart of this executor (<see cref="ITaskRuntime.FindSurvivorsAsync"/>) to
    /// its end, as if it had been started here. It takes a slot of the intake when one is free (it runs already,
    /// so it is never refused). <paramref name="storedUpTo"/>: the time of its last stored output line.
    /// </summary>
    public void Reattach(ClaimedTask task, string? cancelReason, DateTimeOffset? storedUpTo)
    {
        Run(task, default, Task.CompletedTask, new Reattachment(storedUpTo), holdsSlot: _intake.TryHold());
        if (cancelReason is not null) Terminate(task.TaskId, cancelReason, null);
    }

    private sealed record Reattachment(DateTimeOffset? StoredUpTo);

    private void Run(ClaimedTask task, ActivityContext trace, Task announced, Reattachment? reattach, bool holdsSlot)
    {
        var termination = new TaskTermination(TimeSpan.FromSeconds(task.TerminationGracePeriodSeconds));
        var completion = new TaskCompletionSource();
        _running[task.TaskId] = new Running(termination, completion.Task);
        if (task.TimeoutSeconds is { } timeout && !_runtime.EnforcesTimeout)
            termination.RequestAfter(TimeSpan.FromSeconds(timeout), $"task exceeded its timeout of {timeout} s and was terminated", _clock);
        if (_earlyTerminations.TryRemove(task.TaskId, out var early)) termination.Cancel(early.Reason, early.Grace);

        _ = Task.Run(async () =>
        {
            try
            {
                using var run = ExecutorTelemetry.StartRun(task, trace);
                await RunAsync(task, termination, run, announced, reattach);
            }
            finally
            {
                _running.TryRemove(task.TaskId, out _);
                termination.Dispose();
                if (holdsSlot) _intake.Release();
                completion.SetResult();
            }
        });
    }

    private async Task RunAsync(ClaimedTask task, TaskTermination termination, Activity? run, Task announced, Reattachment? reattach)
    {
        _telemetry.Started(task);
        ProcessOutcome outcome;
        // A retried attempt, or a reattached run, appends to the output stored before; only then is the last line number looked up.
        var after = task.Attempt > 1 || reattach is not null ? await _logs.LastSequenceAsync(task.TaskId, CancellationToken.None) : 0;
        await using (var output = new TaskOutput(task.TaskId, _logs, _clock, _logger, after))
        {
            try
            {
                outcome = reattach is null
                    ? await _runtime.RunAsync(task, output, termination)
                    : await _runtime.ReattachAsync(task, output, termination, reattach.StoredUpTo);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Task {TaskId} could not be run", task.TaskId);
                outcome = new ProcessOutcome(null, $"the executor could not run the task: {ex.Message}");
            }
            if (outcome.FailureReason is { } failure) await output.AddAsync(LogStream.Stderr, $"[platform] task failed: {failure}");
        }

        var endedAt = _clock.GetUtcNow();
        ExecutorTelemetry.ProcessEnded(run, outcome);
        _logger.LogInformation("Task {TaskId} of app {App} ended: {Outcome}", task.TaskId, task.App,
            outcome.Succeeded ? "succeeded" : outcome.FailureReason);
        _telemetry.Completed(task, outcome, termination.Cancelled, endedAt);
        if (termination.ShutDown && await RecordShutdownAsync(task, termination.Reason!, endedAt)) return;
        await RecordEndAsync(task, TaskLifecycle.Complete(task.TaskId, outcome.ExitCode, outcome.FailureReason, endedAt, ExecutorName));
        await announced;
        await _bus.Publish(TaskMessages.Completed(task.TaskId, task.App, outcome.ExitCode, outcome.FailureReason, ExecutorName, endedAt));
        if (termination.Reason is { } reason)
            await _bus.Publish(TaskMessages.Terminated(task.TaskId, task.App, reason, endedAt));
    }

    private Task RecordEndAsync(ClaimedTask task, object terminal) =>
        Retry.UntilStoredAsync(async () =>
        {
            await using var session = _store.LightweightSession();
            session.Events.Append(task.TaskId, terminal);
            await session.SaveChangesAsync();
        }, 60, (ex, attempt) => _logger.LogWarning(ex, "Recording the end of task {TaskId} failed (attempt {Attempt}); retrying", task.TaskId, attempt));

    /// <summary>
    /// A task ended by this executor's shutdown runs again elsewhere when its max_attempts allows (as a lost
    /// executor's task does); true if it was requeued, so that no end is recorded or announced.
    /// </summary>
    private async Task<bool> RecordShutdownAsync(ClaimedTask task, string reason, DateTimeOffset endedAt)
    {
        try
        {
            await using var session = _store.LightweightSession();
            var stream = await session.Events.FetchForWriting<AppTask>(task.TaskId);
            if (stream.Aggregate is not { } current || TaskLifecycle.Orphaned(current, reason, ExecutorName, endedAt, _requeueAfter) is not TaskRequeued requeued)
                return false;
            stream.AppendOne(requeued);
            await session.SaveChangesAsync();
            _logger.LogWarning("Task {TaskId} requeued as attempt {Attempt} of {Max}: {Reason}", task.TaskId, requeued.Attempt, current.MaxAttempts, reason);
            return true;
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Requeueing task {TaskId} at shutdown failed; recording it as failed", task.TaskId);
            return false;
        }
    }

    /// <summary>
    /// Ends a task's process tree if this executor runs it. A request for a task that is not (yet) running
    /// here is remembered for a while, in case the task is about to start on this executor.
    /// </summary>
    public bool Terminate(Guid taskId, string reason, TimeSpan? gracePeriod)
    {
        if (_running.TryGetValue(taskId, out var running))
        {
            running.Termination.Cancel(reason, gracePeriod);
            return true;
        }
        var now = _clock.GetUtcNow();
        foreach (var (id, early) in _earlyTerminations)
            if (now - early.At > EarlyTerminationMemory) _earlyTerminations.TryRemove(id, out _);
        _earlyTerminations[taskId] = (reason, gracePeriod, now);
        return false;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _intake.CloseAsync();
        var running = _running.Values.Select(r => r.Completion).ToList();
        if (running.Count > 0)
        {
            _logger.LogInformation("Draining: {Count} running tasks may finish within {Drain} s", running.Count, _drainPeriod.TotalSeconds);
            try
            {
                await Task.WhenAll(running).WaitAsync(_drainPeriod, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }
        foreach (var (_, left) in _running) left.Termination.RequestShutdown($"executor {ExecutorName} shut down while the task ran");
        var ended = Task.WhenAll(_running.Values.Select(r => r.Completion));
        // A task that does not end once asked to is what keeps an executor from stopping: name it, so that its log says which.
        if (await Task.WhenAny(ended, Task.Delay(ShutdownStragglerWarning, cancellationToken)) != ended && !_running.IsEmpty)
            _logger.LogWarning("Shutting down: {Count} tasks have not ended {Seconds} s after they were asked to: {TaskIds}",
                _running.Count, ShutdownStragglerWarning.TotalSeconds, string.Join(", ", _running.Keys));
        await ended.WaitAsync(cancellationToken);
    }
}
