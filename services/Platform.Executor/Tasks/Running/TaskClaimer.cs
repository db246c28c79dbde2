using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.TaskStore;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// Claims a task atomically in its event stream: the claim is appended at the version the executor read,
/// so of two executors holding the same RunTask (a redelivery, a duplicate publish) exactly one wins.
/// A RunTask from an outside publisher has no stream yet; then the stream is started with the accepted
/// and claimed events together, and a concurrent duplicate loses on the stream's unique id.
/// </summary>
internal sealed class TaskClaimer(
    IDocumentStore store, AppSequences sequences, TaskDeletion deletion, SecretKeyRing secrets, IOptions<ExecutorOptions> options,
    IOptions<UnfinishedTaskLimitOptions> limits, TimeProvider clock, ILogger<TaskClaimer> logger)
{
    /// <returns>The claimed task, or null when another delivery already claimed (or finished) it.</returns>
    // publisher: who published the RunTask (PublisherAuthorization), recorded with the accepted event when this starts the stream.
    public async Task<ClaimedTask?> ClaimAsync(RunTask message, Guid taskId, string publisher, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(message.App)) throw new RunTaskRejected("app", "app is required.");
        await using var session = store.LightweightSession();
        // The app and the task's stream in one round trip: the claim is on the way from "run this" to the process.
        var batch = session.CreateBatchQuery();
        var appRead = batch.Load<App>(message.App);
        var streamRead = batch.Events.FetchForWriting<AppTask>(taskId);
        await batch.Execute(ct);
        var app = await appRead ?? throw new RunTaskRejected("app", $"No app '{message.App}' is registered.");

        var stream = await streamRead;
        var now = clock.GetUtcNow();
        AppTask task;
        if (stream.Aggregate is null)
        {
            if (await deletion.WasDeletedAsync(taskId, ct))
            {
                logger.LogInformation("Task {TaskId} was deleted; dropping this late delivery", taskId);
                return null;
            }
            var overrides = new TaskOverrides(message.Command, message.Name, message.MemoryInMb, message.DiskInMb, message.Env,
                message.TimeoutSeconds, message.TerminationGracePeriodSeconds, message.MaxAttempts);
            var errors = TaskDefinition.Validate(overrides, app);
            if (errors.Count > 0) throw new RunTaskRejected(errors);
            // An outside publisher's task is held to the limits the Api's and the Scheduler's are held to.
            if (limits.Value.Exceeded(app, await UnfinishedTaskCounts.OfAsync(session, app, ct)) is { } limit) throw new RunTaskRejected("limit", limit);
            var accepted = TaskDefinition.Accept(taskId, await sequences.NextAsync(app.Name, ct), overrides, app, now);
            // The publisher accepted it; the claim that follows in this transaction is the executor's own.
            stream.AppendOne(Actors.On(accepted, publisher));
            task = TaskLifecycle.Accept(accepted);
        }
        else if (TaskLifecycle.CanClaim(stream.Aggregate))
        {
            task = stream.Aggregate;
        }
        else
        {
            logger.LogInformation("Task {TaskId} is already {State}; dropping this delivery", taskId, stream.Aggregate.State);
            return null;
        }

        stream.AppendOne(new TaskClaimed(taskId, options.Value.Name, now));
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (WriteConflict.Is(ex))
        {
            logger.LogInformation("Task {TaskId} was claimed by another delivery; dropping this one", taskId);
            return null;
        }

        // The task's own variables override the app's; secrets are decrypted and added last, only here, on their way to the process.
        var environment = new Dictionary<string, string>(app.Env);
        foreach (var (name, value) in task.Env) environment[name] = value;
        foreach (var (name, value) in app.SecretEnv) environment[name] = secrets.Decrypt(app.Name, name, value);
        return new ClaimedTask(task.Id, task.App, task.SequenceId, task.Name, task.Command, task.MemoryInMb, task.DiskInMb, environment, task.CreatedAt, now,
            task.TimeoutSeconds, task.TerminationGracePeriodSeconds ?? TaskDefinition.DefaultGracePeriodSeconds, task.Attempt,
            app.PidsLimit, app.Network, app.Space, app.Image, app.SecretEnv.Keys.ToHashSet());
    }

    /// <summary>
    /// Records a RunTask that can never run as a FAILED task, so that its publisher sees why through the API:
    /// on its stream if it exists and is still pending, or as a new task of its app if the app exists. With
    /// neither, the error queue is the only record.
    /// </summary>
    public async Task RecordRejectionAsync(RunTask message, Guid taskId, string publisher, RunTaskRejected rejection, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<AppTask>(taskId, ct);
        var now = clock.GetUtcNow();
        var reason = $"the task was rejected: {string.Join(" ", rejection.Errors.SelectMany(e => e.Value))}";
        if (stream.Aggregate is { } task)
        {
            if (task.State != TaskState.Pending) return;
        }
        else if (message.App is { } name && await session.LoadAsync<App>(name, ct) is { } app)
        {
            // Only what is valid of the request is kept: the record must not carry the fault that was rejected.
            var kept = new TaskOverrides(
                message.Command is { Length: <= TaskDefinition.MaxCommandLength } command ? command : null,
                message.Name is { Length: > 0 and <= TaskDefinition.MaxNameLength } given ? given : null,
                null, null, null);
            stream.AppendOne(Actors.On(TaskDefinition.Accept(taskId, await sequences.NextAsync(app.Name, ct), kept, app, now), publisher));
        }
        else
        {
            return;
        }
        stream.AppendOne(new TaskFailed(taskId, null, reason, now, options.Value.Name));
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (WriteConflict.Is(ex))
        {
            // Another delivery of the same message recorded it.
        }
    }
}
