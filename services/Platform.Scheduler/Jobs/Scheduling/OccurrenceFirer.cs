using System.Diagnostics;
using System.Diagnostics.Metrics;
using JasperFx.Events;
using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Cancelling;
using Platform.Contracts;
using Platform.ServiceDefaults;
using Platform.TaskStore;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>
/// Carries out the <see cref="OccurrencePlanner"/>'s decision for one due schedule, at most once across all
/// Scheduler replicas: in one transaction it records the missed occurrences, starts the fired occurrence's
/// task stream at its deterministic id (<see cref="OccurrenceIds"/>) and moves the schedule's progress on;
/// only after that commits is <see cref="RunTask"/> published. A replica that loses the race fails on the
/// stream's or an occurrence's unique id, writes nothing, and reads how far the winner got.
/// </summary>
internal sealed class OccurrenceFirer(
    IDocumentStore store,
    NpgsqlDataSource dataSource,
    AppSequences sequences,
    TaskCancellation cancellation,
    JobGuard guard,
    IBus bus,
    TimeProvider clock,
    IOptions<SchedulerOptions> options,
    IMeterFactory meters,
    ILogger<OccurrenceFirer> logger)
{
    private static readonly TaskState[] Unfinished = [TaskState.Pending, TaskState.Running, TaskState.Canceling];

    private readonly Histogram<double> _lateness = meters.Create(ServiceDefaultsRegistration.TelemetryName)
        .CreateHistogram<double>("platform.scheduler.firing_lateness", "s", "From an occurrence's time to its RunTask being published.");

    private static readonly ActivitySource Source = new(ServiceDefaultsRegistration.TelemetryName);

    public async Task HandleAsync(DueSchedule due, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var job = due.Job;
        var plan = OccurrencePlanner.Plan(due.Cron, due.Since, now, StartingDeadline(job), options.Value.MaxMissedRecorded);
        if (plan.Handled is not { } handled) return;

        using var activity = StartFireTrace(job.Name, job.App, due.Schedule.Id, handled);

        try
        {
            var (committed, firing) = await CommitAsync(due, plan, now, ct);
            due.HandledUpTo(handled);
            if (!committed)
                logger.LogInformation("Job {Job} was suspended or deleted, or its schedule {Schedule} removed, before firing; nothing fired", job.Name, due.Schedule.Id);
            else if (firing is not null)
            {
                activity?.SetTag(TelemetryTags.TaskId, firing.Accepted.TaskId.ToString());
                await PublishAsync(firing, ct);
            }
        }
        catch (Exception ex) when (IsAlreadyHandled(ex))
        {
            await CatchUpAsync(due, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Firing schedule {Schedule} of job {Job} failed; trying again in 1 s", due.Schedule.Id, job.Name);
            due.RetryAt(now.AddSeconds(1));
        }
    }

    /// <summary>
    /// Fires several due schedules of <see cref="ConcurrencyPolicy.Always"/> jobs in one transaction: the same
    /// records as <see cref="HandleAsync"/> writes for each, with one guard query, one app load and one
    /// save for all (a burst of occurrences due in the same second costs one round trip set, not one per
    /// occurrence). When another replica handled any of them first the transaction fails as a whole, and each
    /// is handled on its own, which finds out how far the other got. Callers pass schedules ordered by id,
    /// so that two replicas firing the same set insert in the same order and one waits for the other rather
    /// than deadlocking.
    /// </summary>
    public async Task HandleTogetherAsync(IReadOnlyList<DueSchedule> batch, CancellationToken ct)
    {
        if (batch.Count == 1)
        {
            await HandleAsync(batch[0], ct);
            return;
        }
        var now = clock.GetUtcNow();
        var plans = batch
            .Select(due => (Due: due, Plan: OccurrencePlanner.Plan(due.Cron, due.Since, now, StartingDeadline(due.Job), options.Value.MaxMissedRecorded)))
            .Where(p => p.Plan.Handled is not null)
            .ToList();
        if (plans.Count == 0) return;

        List<Firing> fired;
        try
        {
            fired = await CommitTogetherAsync(plans, now, ct);
        }
        catch (Exception ex) when (IsAlreadyHandled(ex))
        {
            foreach (var (due, _) in plans) await HandleAsync(due, ct);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Firing {Count} schedules together failed; trying again in 1 s", plans.Count);
            foreach (var (due, _) in plans) due.RetryAt(now.AddSeconds(1));
            return;
        }
        foreach (var (due, plan) in plans) due.HandledUpTo(plan.Handled!.Value);
        await Task.WhenAll(fired.Select(firing => PublishInOwnTraceAsync(firing, ct)));
    }

    private async Task<List<Firing>> CommitTogetherAsync(
        List<(DueSchedule Due, OccurrencePlan Plan)> plans, DateTimeOffset now, CancellationToken ct)
    {
        // Sequence ids first, a range per app, before a connection is held (see CommitAsync).
        var next = new Dictionary<string, long>();
        foreach (var app in plans.Where(p => p.Plan.Fire is not null).GroupBy(p => p.Due.Job.App))
            next[app.Key] = await sequences.NextRangeAsync(app.Key, app.Count(), ct);

        var guarded = await guard.WhileSchedulesActiveAsync(plans.Select(p => p.Due.Schedule.Id).ToList(), ct);
        if (guarded is not { } held)
        {
            logger.LogInformation("None of {Count} due schedules is active any more; nothing fired", plans.Count);
            return [];
        }
        await using var transaction = held.Session;
        var session = transaction.Session;
        var apps = (await session.LoadManyAsync<App>(ct, next.Keys)).ToDictionary(a => a.Name);
        var fired = new List<Firing>();
        foreach (var (due, plan) in plans)
        {
            if (!held.Active.Contains(due.Schedule.Id))
            {
                logger.LogInformation("Job {Job} was suspended or deleted, or its schedule {Schedule} removed, before firing; nothing fired", due.Job.Name, due.Schedule.Id);
                continue;
            }
            (TaskAccepted?, string?, IReadOnlyList<Guid>) decision = default;
            if (plan.Fire is { } at)
            {
                var (accepted, skipReason) = Accept(due, at, apps.GetValueOrDefault(due.Job.App), next[due.Job.App]++, now);
                decision = (accepted, skipReason, []);
            }
            if (Stage(session, due, plan, decision) is { } firing) fired.Add(firing);
        }
        await transaction.CommitAsync(ct);
        return fired;
    }

    // Each occurrence fired together with others still starts a trace of its own, as in HandleAsync.
    private async Task PublishInOwnTraceAsync(Firing firing, CancellationToken ct)
    {
        var origin = firing.Accepted.Origin!;
        using var activity = StartFireTrace(origin.Job, firing.Accepted.App, origin.ScheduleId!.Value, firing.OccurrenceAt);
        activity?.SetTag(TelemetryTags.TaskId, firing.Accepted.TaskId.ToString());
        await PublishAsync(firing, ct);
    }

    /// <summary>
    /// A scheduled occurrence is the origin of its task: nothing but the clock caused it, so it starts a
    /// trace of its own (the "job fire" span), and the task's RunTask, claim and run continue that trace.
    /// </summary>
    private static Activity? StartFireTrace(string job, string app, Guid scheduleId, DateTimeOffset occurrenceAt)
    {
        Activity.Current = null;
        var activity = Source.StartActivity("job fire");
        activity?.SetTag(TelemetryTags.JobName, job);
        activity?.SetTag(TelemetryTags.AppName, app);
        activity?.SetTag(TelemetryTags.JobScheduleId, scheduleId.ToString());
        activity?.SetTag(TelemetryTags.JobOccurrenceAt, occurrenceAt.ToString("O"));
        return activity;
    }

    private static TimeSpan? StartingDeadline(Job job) => job.StartingDeadlineSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>
    /// Runs a firing's statements once in a transaction that is rolled back, so that Marten generates and
    /// compiles its code for them at start-up, and opens the publish endpoints (declaring their exchanges),
    /// instead of making the first real occurrence a second or more late.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        await bus.GetPublishSendEndpoint<RunTask>();
        await bus.GetPublishSendEndpoint<TerminateTask>();
        await bus.GetPublishSendEndpoint<TaskTerminated>();

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, false));
        var id = Guid.NewGuid();
        await session.Query<AppTask>().Where(t => t.Job == "" && t.State.In(Unfinished)).Select(t => t.Id).ToListAsync(ct);
        await session.LoadAsync<App>("", ct);
        session.Insert(new JobOccurrence { Id = id });
        session.Events.StartStream<AppTask>(id, new TaskAccepted(id, "", 0, "", "", 1, 1, new Dictionary<string, string>(), clock.GetUtcNow()));
        session.Store(new ScheduleProgress { Id = id });
        await session.SaveChangesAsync(ct);
        await transaction.RollbackAsync(ct);
    }

    private sealed record Firing(TaskAccepted Accepted, DateTimeOffset OccurrenceAt, IReadOnlyList<Guid> Replaced);

    /// <returns>Whether anything was stored (false when the job or schedule is no longer active), and what fired.</returns>
    private async Task<(bool Committed, Firing? Firing)> CommitAsync(DueSchedule due, OccurrencePlan plan, DateTimeOffset now, CancellationToken ct)
    {
        var job = due.Job;
        // The task's sequence id is taken before the guard's connection is opened: taking it while holding
        // that connection made parallel firings wait for a second connection each, and with as many firings
        // as pooled connections they all waited (found by the benchmark's 1,000 schedules). An occurrence that
        // is then skipped leaves a gap in the app's sequence ids.
        long? sequenceId = plan.Fire is null ? null : await sequences.NextAsync(job.App, ct);
        await using var guarded = await guard.WhileScheduledAsync(job.Name, due.Schedule.Id, ct);
        if (guarded is null) return (false, null);
        var session = guarded.Session;
        var decision = plan.Fire is { } at ? await DecideAsync(session, due, at, sequenceId!.Value, now, ct) : default;
        var firing = Stage(session, due, plan, decision);
        await guarded.CommitAsync(ct);
        return (true, firing);
    }

    /// <summary>
    /// Puts one schedule's handling into <paramref name="session"/>: the missed occurrences, the fired (or
    /// skipped) one with its task's stream, and the schedule's progress. The same for a firing alone and in a batch.
    /// </summary>
    private Firing? Stage(IDocumentSession session, DueSchedule due, OccurrencePlan plan, (TaskAccepted? Accepted, string? SkipReason, IReadOnlyList<Guid> Replaced) decision)
    {
        foreach (var missed in plan.Missed)
            session.Insert(Record(due, missed.At, OccurrenceOutcome.Missed, missed.Reason, null));
        if (plan.EarlierMissedNotRecorded)
            logger.LogWarning("Schedule {Schedule} of job {Job} missed more occurrences than are recorded one by one", due.Schedule.Id, due.Job.Name);

        Firing? firing = null;
        if (plan.Fire is { } at)
        {
            var (accepted, skipReason, replaced) = decision;
            session.Insert(accepted is null
                ? Record(due, at, OccurrenceOutcome.Skipped, skipReason, null)
                : Record(due, at, OccurrenceOutcome.Fired, null, accepted.TaskId));
            if (accepted is not null)
            {
                session.Events.StartStream<AppTask>(accepted.TaskId, accepted);
                firing = new Firing(accepted, at, replaced);
            }
        }
        session.Store(new ScheduleProgress { Id = due.Schedule.Id, Job = due.Job.Name, LastOccurrenceAt = plan.Handled!.Value });
        return firing;
    }

    /// <summary>The task to start for an occurrence, or why it is skipped; and, for Replace, the tasks to end first.</summary>
    private async Task<(TaskAccepted? Accepted, string? SkipReason, IReadOnlyList<Guid> Replaced)> DecideAsync(
        IDocumentSession session, DueSchedule due, DateTimeOffset at, long sequenceId, DateTimeOffset now, CancellationToken ct)
    {
        var job = due.Job;
        IReadOnlyList<Guid> unfinished = [];
        if (job.ConcurrencyPolicy != ConcurrencyPolicy.Always)
        {
            unfinished = await session.Query<AppTask>()
                .Where(t => t.Job == job.Name && t.State.In(Unfinished))
                .Select(t => t.Id)
                .ToListAsync(ct);
            if (job.ConcurrencyPolicy == ConcurrencyPolicy.Forbid && unfinished.Count > 0)
                return (null, $"skipped: concurrency policy Forbid, and task {unfinished[0]} of the job has not ended", []);
        }

        var (accepted, skipReason) = Accept(due, at, await session.LoadAsync<App>(job.App, ct), sequenceId, now);
        return (accepted, skipReason, unfinished);
    }

    /// <summary>The occurrence's task, or why it is skipped (its app gone, or the job no longer valid for it).</summary>
    private static (TaskAccepted? Accepted, string? SkipReason) Accept(DueSchedule due, DateTimeOffset at, App? app, long sequenceId, DateTimeOffset now)
    {
        var job = due.Job;
        if (app is null) return (null, $"skipped: the app '{job.App}' no longer exists");
        var overrides = JobTasks.Overrides(job);
        var errors = TaskDefinition.Validate(overrides, app);
        if (errors.Count > 0) return (null, "skipped: " + string.Join(" ", errors.Values.SelectMany(e => e)));
        var taskId = OccurrenceIds.For(job.Name, due.Schedule.Id, at);
        return (TaskDefinition.Accept(taskId, sequenceId, overrides, app, now, new TaskOrigin(job.Name, due.Schedule.Id, at)), null);
    }

    private JobOccurrence Record(DueSchedule due, DateTimeOffset at, OccurrenceOutcome outcome, string? reason, Guid? taskId) => new()
    {
        Id = OccurrenceIds.For(due.Job.Name, due.Schedule.Id, at),
        Job = due.Job.Name,
        ScheduleId = due.Schedule.Id,
        OccurrenceAt = at,
        Outcome = outcome,
        TaskId = taskId,
        Reason = reason,
        RecordedAt = clock.GetUtcNow(),
        Scheduler = options.Value.Name,
    };

    private async Task PublishAsync(Firing firing, CancellationToken ct)
    {
        // Replace: end the unfinished tasks first (cancelled as by a user, with their own grace period),
        // then start the new one. The new one's stream is already written but nothing runs it before its
        // RunTask; it does not wait for the old ones to be gone.
        foreach (var taskId in firing.Replaced)
            await ReplaceAsync(taskId, $"replaced by the run of job {firing.Accepted.Origin!.Job} for {firing.OccurrenceAt:O} (concurrency policy Replace)", ct);
        await bus.Publish(TaskMessages.RunTask(TaskLifecycle.Accept(firing.Accepted)), ct);
        var lateness = (clock.GetUtcNow() - firing.OccurrenceAt).TotalMilliseconds;
        _lateness.Record(lateness / 1000, new KeyValuePair<string, object?>("job.name", firing.Accepted.Origin!.Job));
        logger.LogInformation("Fired job {Job} for {OccurrenceAt:O} as task {TaskId}, {LatenessMs:0.0} ms after the occurrence",
            firing.Accepted.Origin!.Job, firing.OccurrenceAt, firing.Accepted.TaskId, lateness);
    }

    private async Task ReplaceAsync(Guid taskId, string reason, CancellationToken ct)
    {
        await cancellation.CancelAsync(taskId, reason, ct);
    }

    /// <summary>Another replica handled these occurrences first: continue from where it got.</summary>
    private async Task CatchUpAsync(DueSchedule due, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        if (await session.LoadAsync<ScheduleProgress>(due.Schedule.Id, ct) is { } progress)
            due.HandledUpTo(progress.LastOccurrenceAt);
        logger.LogDebug("Schedule {Schedule} was handled up to {Since:O} by another scheduler", due.Schedule.Id, due.Since);
    }

    // The occurrence's records are documents with unique ids too, so a duplicate insert also means "handled".
    private static bool IsAlreadyHandled(Exception ex) =>
        WriteConflict.Is(ex) || ex is JasperFx.DocumentAlreadyExistsException
        || (ex.InnerException is { } inner && IsAlreadyHandled(inner));
}
