using System.Diagnostics;
using MassTransit;
using Marten;
using Microsoft.Extensions.Options;
using Platform.Cancelling;
using Platform.Contracts;
using Platform.Scheduler.Telemetry;
using Platform.ServiceDefaults;
using Platform.TaskStore;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>
/// Carries out what is due for one schedule, at most once across all Scheduler replicas: it gathers the facts
/// inside the firing's transaction, takes the <see cref="FiringDecision"/>, records the missed occurrences,
/// the fired (or skipped) one with its task's stream at its deterministic id (<see cref="OccurrenceIds"/>)
/// and the schedule's progress, and commits; only then is <see cref="RunTask"/> published. A replica that
/// loses the race fails on the stream's or an occurrence's unique id, writes nothing, and reads how far the
/// winner got.
/// </summary>
internal sealed class OccurrenceFirer(
    IDocumentStore store,
    AppSequences sequences,
    JobGuard guard,
    TaskCancellation cancellation,
    IBus bus,
    SchedulerTelemetry telemetry,
    TimeProvider clock,
    IOptions<SchedulerOptions> options,
    IOptions<UnfinishedTaskLimitOptions> limits,
    ILogger<OccurrenceFirer> logger)
{
    private readonly PendingTasks _ahead = new();

    public async Task HandleAsync(DueSchedule due, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var job = due.Job;
        if (Plan(due, due.PlanAt(now)) is not { Handled: { } handled } plan) return;

        using var activity = SchedulerTelemetry.StartFiring(job.Name, job.App, due.Schedule.Id, handled);
        try
        {
            var (committed, firing) = await CommitAsync(due, plan, now, ct);
            due.HandledUpTo(handled);
            if (!committed)
                logger.LogInformation("Job {Job} was suspended or deleted, or its schedule {Schedule} removed, before firing; nothing fired", job.Name, due.Schedule.Id);
            else if (firing is not null)
            {
                activity?.SetTag(TelemetryTags.TaskId, firing.Task.TaskId.ToString());
                if (!PublishedAhead(firing, activity?.Context)) await PublishAsync(firing, ct);
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
        var plans = batch.Select(due => (Due: due, Plan: Plan(due, due.PlanAt(now)))).Where(p => p.Plan.Handled is not null).ToList();
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
        // Each occurrence fired ahead of its time is handed to a background publish; the rest are published now.
        var publishing = new List<Task>();
        foreach (var firing in fired)
            if (!PublishedAhead(firing, parent: null)) publishing.Add(PublishInOwnTraceAsync(firing, ct));
        await Task.WhenAll(publishing);
    }

    /// <summary>
    /// Whether <paramref name="firing"/> was fired ahead of its occurrence: its RunTask is then published at the
    /// occurrence's time, in the background, so that the loop goes on meanwhile (the Scheduler's stop waits for
    /// it, <see cref="PublishedAheadAsync"/>). A publish that fails leaves the task PENDING, and the executors'
    /// redispatch publishes it again, as after a crash between commit and publish.
    /// </summary>
    private bool PublishedAhead(Firing firing, ActivityContext? parent)
    {
        var wait = firing.OccurrenceAt - clock.GetUtcNow();
        if (wait <= TimeSpan.Zero) return false;
        _ahead.Add(PublishAtAsync(firing, wait, parent));
        return true;
    }

    private async Task PublishAtAsync(Firing firing, TimeSpan wait, ActivityContext? parent)
    {
        // Not cancelled by the Scheduler's stop: the wait is at most FireAhead, and the stop waits for it.
        await Task.Delay(wait, clock);
        try
        {
            if (parent is { } firingContext)
            {
                // The firing's own trace, as when it is published at once.
                using var activity = SchedulerTelemetry.StartPublishing(firingContext, firing.Task.TaskId);
                await PublishAsync(firing, CancellationToken.None);
            }
            else await PublishInOwnTraceAsync(firing, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Publishing the RunTask of task {TaskId} (job {Job}, fired ahead of {OccurrenceAt:O}) failed; the executors' redispatch publishes it later",
                firing.Task.TaskId, firing.Job, firing.OccurrenceAt);
        }
    }

    /// <summary>Completes once every RunTask of an occurrence fired ahead so far is published (or failed to be).</summary>
    public Task PublishedAheadAsync() => _ahead.AllAsync();

    // A task fired ahead of its occurrence is created as of the occurrence, when its RunTask goes out: a job
    // due at midnight makes a task of the new day, not of a second before it.
    private static DateTimeOffset CreatedAt(DateTimeOffset occurrence, DateTimeOffset now) => occurrence > now ? occurrence : now;

    private OccurrencePlan Plan(DueSchedule due, DateTimeOffset now) =>
        OccurrencePlanner.Plan(due.Cron, due.Since, now,
            due.Job.StartingDeadlineSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null, options.Value.MaxMissedRecorded);

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
        // The unfinished tasks of every app and space that fires, in one round trip; each task fired here adds to them.
        var (ofApps, ofSpaces) = await UnfinishedTaskCounts.OfManyAsync(session, apps.Keys, apps.Values.Select(a => a.Space).ToList(), ct);
        var fired = new List<Firing>();
        foreach (var (due, plan) in plans)
        {
            if (!held.Active.Contains(due.Schedule.Id))
            {
                logger.LogInformation("Job {Job} was suspended or deleted, or its schedule {Schedule} removed, before firing; nothing fired", due.Job.Name, due.Schedule.Id);
                continue;
            }
            // Always jobs only: what else of the job runs does not matter to them.
            FiringDecision? decision = null;
            if (plan.Fire is { } at)
            {
                var app = apps.GetValueOrDefault(due.Job.App);
                var counts = app is null ? UnfinishedTaskCounts.None : new UnfinishedTaskCounts(ofApps[app.Name], ofSpaces[app.Space]);
                decision = FiringDecision.Decide(due.Job, due.Schedule.Id, at, app, [], counts, limits.Value, next[due.Job.App]++, CreatedAt(at, now));
                if (decision is FiringDecision.Fire && app is not null)
                {
                    ofApps[app.Name]++;
                    ofSpaces[app.Space]++;
                }
            }
            if (Stage(session, due, plan, decision) is { } firing) fired.Add(firing);
        }
        await transaction.CommitAsync(ct);
        return fired;
    }

    // Each occurrence fired together with others still starts a trace of its own, as in HandleAsync.
    private async Task PublishInOwnTraceAsync(Firing firing, CancellationToken ct)
    {
        using var activity = SchedulerTelemetry.StartFiring(firing.Job, firing.Task.App, firing.ScheduleId, firing.OccurrenceAt);
        activity?.SetTag(TelemetryTags.TaskId, firing.Task.TaskId.ToString());
        await PublishAsync(firing, ct);
    }

    private sealed record Firing(TaskAccepted Task, IReadOnlyList<Guid> Replaced)
    {
        public string Job => Task.Origin!.Job;
        public Guid ScheduleId => Task.Origin!.ScheduleId!.Value;
        public DateTimeOffset OccurrenceAt => Task.Origin!.OccurrenceAt!.Value;
    }

    /// <returns>Whether anything was stored (false when the job or schedule is no longer active), and what fired.</returns>
    private async Task<(bool Committed, Firing? Firing)> CommitAsync(DueSchedule due, OccurrencePlan plan, DateTimeOffset now, CancellationToken ct)
    {
        var job = due.Job;
        // The task's sequence id is taken before the guard's connection is opened: taking it while holding
        // that connection made parallel firings wait for a second connection each, and with as many firings
        // as pooled connections they all waited (found by the benchmark's 1,000 schedules). An occurrence that
        // is then skipped leaves a gap in the app's sequence ids.
        long? sequenceId = plan.Fire is null ? null : await sequences.NextAsync(job.App, ct);
        // Forbid and Replace decide on the job's unfinished tasks, so their firings hold the job's row
        // exclusively: a second firing of the job waits for this one to commit and then sees its task.
        var looksAtRunning = job.ConcurrencyPolicy != ConcurrencyPolicy.Always;
        await using var guarded = await guard.WhileScheduledAsync(job.Name, due.Schedule.Id, exclusive: looksAtRunning, ct);
        if (guarded is null) return (false, null);
        var session = guarded.Session;
        FiringDecision? decision = null;
        if (plan.Fire is { } at)
        {
            IReadOnlyList<Guid> unfinished = looksAtRunning ? await JobTasks.UnfinishedAsync(session, job.Name, ct) : [];
            var app = await session.LoadAsync<App>(job.App, ct);
            var counts = app is null ? UnfinishedTaskCounts.None : await UnfinishedTaskCounts.OfAsync(session, app, ct);
            decision = FiringDecision.Decide(job, due.Schedule.Id, at, app, unfinished, counts, limits.Value, sequenceId!.Value, CreatedAt(at, now));
        }
        var firing = Stage(session, due, plan, decision);
        await guarded.CommitAsync(ct);
        return (true, firing);
    }

    /// <summary>
    /// Puts one schedule's handling into <paramref name="session"/>: the missed occurrences, the fired (or
    /// skipped) one with its task's stream, and the schedule's progress. The same for a firing alone and in a batch.
    /// </summary>
    private Firing? Stage(IDocumentSession session, DueSchedule due, OccurrencePlan plan, FiringDecision? decision)
    {
        foreach (var missed in plan.Missed)
            session.Insert(Record(due, missed.At, OccurrenceOutcome.Missed, missed.Reason, null));
        if (plan.EarlierMissedNotRecorded)
            logger.LogWarning("Schedule {Schedule} of job {Job} missed more occurrences than are recorded one by one", due.Schedule.Id, due.Job.Name);

        Firing? firing = null;
        if (plan.Fire is { } at)
        {
            switch (decision)
            {
                case FiringDecision.Fire fire:
                    session.Insert(Record(due, at, OccurrenceOutcome.Fired, null, fire.Task.TaskId));
                    // Who did it: the Scheduler, for this job (a batch holds several jobs, so per event, not per session).
                    session.Events.StartStream<AppTask>(fire.Task.TaskId, Actors.On(fire.Task, Actors.Scheduler(due.Job.Name)));
                    firing = new Firing(fire.Task, fire.Replaced);
                    break;
                case FiringDecision.Skip skip:
                    session.Insert(Record(due, at, OccurrenceOutcome.Skipped, skip.Reason, null));
                    break;
            }
        }
        session.Store(new ScheduleProgress { Id = due.Schedule.Id, Job = due.Job.Name, LastOccurrenceAt = plan.Handled!.Value });
        return firing;
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
            await cancellation.CancelAsync(taskId, $"replaced by the run of job {firing.Job} for {firing.OccurrenceAt:O} (concurrency policy Replace)",
                Actors.Scheduler(firing.Job), ct);
        await bus.Publish(TaskMessages.RunTask(TaskLifecycle.Accept(firing.Task)), ct);
        var lateness = clock.GetUtcNow() - firing.OccurrenceAt;
        telemetry.Fired(firing.Job, lateness);
        logger.LogInformation("Fired job {Job} for {OccurrenceAt:O} as task {TaskId}, {LatenessMs:0.0} ms after the occurrence",
            firing.Job, firing.OccurrenceAt, firing.Task.TaskId, lateness.TotalMilliseconds);
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
