using Marten;
using Microsoft.Extensions.Options;
using Platform.TaskStore.Jobs;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>
/// The scheduling loop: holds every active schedule in memory, sleeps until the earliest is due (an Always
/// job's <see cref="SchedulerOptions.FireAhead"/> before its time), or a change is notified, or the periodic
/// reload is due, then hands the due ones to
/// <see cref="OccurrenceFirer"/>. PostgreSQL sees a read of the changed job's rows per change, a full
/// reload per <see cref="SchedulerOptions.ReloadSeconds"/>, and the statements of each firing; nothing in between.
/// </summary>
internal sealed class JobScheduler(
    IDocumentStore store,
    OccurrenceFirer firer,
    FiringWarmUp warmUp,
    ReloadSignal reload,
    TimeProvider clock,
    IOptions<SchedulerOptions> options,
    ILogger<JobScheduler> logger) : BackgroundService
{
    /// <summary>Stops the loop, then waits for the RunTasks of occurrences fired ahead to be published at their time (at most FireAhead).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await firer.PublishedAheadAsync().WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var reloadEvery = TimeSpan.FromSeconds(settings.ReloadSeconds);
        List<DueSchedule> schedules = [];
        var nextReload = DateTimeOffset.MinValue;
        var reloadRequested = false;
        // A full reload reads in the background while the loop goes on firing from what it holds: reading ten
        // thousand schedules took 1.2 to 1.8 s on a busy machine (docs/benchmarks.md), and nothing fired meanwhile.
        Task<List<DueSchedule>>? fullReload = null;
        var changedDuringReload = new HashSet<string>(StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = settings.MaxParallelFirings, CancellationToken = ct };
        try
        {
            await warmUp.RunAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Warming up the firing path failed; the first occurrence may fire late");
        }
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var now = clock.GetUtcNow();
                if (reloadRequested || reload.TryTake() || now >= nextReload)
                {
                    reloadRequested = false;
                    var request = reload.TakeRequest();
                    if (request.Everything && fullReload is not null) nextReload = DateTimeOffset.MinValue; // the one under way may have read too early
                    else if ((request.Everything || now >= nextReload) && fullReload is null)
                    {
                        fullReload = LoadAsync(ct);
                        // Wakes the loop to take the result.
                        _ = fullReload.ContinueWith(_ => reload.Nudge(), TaskScheduler.Default);
                        nextReload = now + reloadEvery;
                    }
                    if (request.Jobs.Count > 0)
                    {
                        schedules = await ReloadJobsAsync(schedules, request.Jobs, ct);
                        if (fullReload is not null) changedDuringReload.UnionWith(request.Jobs);
                        WarnIfSlow(now, "Reloading the schedules of {Count} changed jobs", request.Jobs.Count);
                    }
                }
                if (fullReload is { IsCompleted: true } loaded)
                {
                    fullReload = null;
                    schedules = Merge(await loaded, schedules);
                    // A change read on its own meanwhile may be newer than what the full read saw: it is read again.
                    if (changedDuringReload.Count > 0)
                    {
                        schedules = await ReloadJobsAsync(schedules, changedDuringReload, ct);
                        changedDuringReload.Clear();
                    }
                }

                var due = schedules.Where(s => s.FireAt(settings.FireAhead) <= now).OrderBy(s => s.Schedule.Id).ToList();
                if (due.Count > 0)
                {
                    var firingStarted = clock.GetUtcNow();
                    await Parallel.ForEachAsync(FiringBatches(due, settings.FiringBatchSize), parallel,
                        (batch, token) => new ValueTask(firer.HandleTogetherAsync(batch, token)));
                    WarnIfSlow(firingStarted, "Firing {Count} due schedules", due.Count);
                    continue;
                }

                var wake = schedules.Select(s => s.FireAt(settings.FireAhead)).Where(d => d is not null)
                    .Append(fullReload is null ? nextReload : now + reloadEvery).Min()!.Value; // a reload under way wakes the loop itself
                var wait = wake - now;
                if (wait > TimeSpan.Zero) reloadRequested = await reload.WaitAsync(wait, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "The scheduling loop failed; reloading in 1 s");
                nextReload = DateTimeOffset.MinValue;
                await Task.Delay(TimeSpan.FromSeconds(1), clock, ct);
            }
        }
    }

    // Every occurrence waits while the loop is busy: a slow reload or round of firings is worth a line.
    private void WarnIfSlow(DateTimeOffset startedAt, string what, int count)
    {
        var took = clock.GetUtcNow() - startedAt;
        if (took > TimeSpan.FromSeconds(1))
            logger.LogWarning(what + " took {Seconds:0.0} s; occurrences due meanwhile fire late", count, took.TotalSeconds);
    }

    /// <summary>
    /// Schedules of <see cref="ConcurrencyPolicy.Always"/> jobs go in batches of up to <paramref name="size"/>,
    /// fired in one transaction each; Forbid and Replace look at their job's running tasks, one at a time
    /// (and firings of one such job take turns on its row: <see cref="JobGuard"/>).
    /// </summary>
    internal static IEnumerable<IReadOnlyList<DueSchedule>> FiringBatches(IReadOnlyList<DueSchedule> due, int size)
    {
        foreach (var batch in due.Where(d => d.Job.ConcurrencyPolicy == ConcurrencyPolicy.Always).Chunk(size)) yield return batch;
        foreach (var single in due.Where(d => d.Job.ConcurrencyPolicy != ConcurrencyPolicy.Always)) yield return [single];
    }

    /// <summary>
    /// The schedules a full reload read, each moved on to where the loop got with it while the read was under way
    /// (a firing committed after the read saw its progress).
    /// </summary>
    internal static List<DueSchedule> Merge(List<DueSchedule> loaded, IReadOnlyList<DueSchedule> current)
    {
        var reached = new Dictionary<Guid, DateTimeOffset>();
        foreach (var schedule in current) reached[schedule.Schedule.Id] = schedule.Since;
        foreach (var schedule in loaded)
            if (reached.TryGetValue(schedule.Schedule.Id, out var since)) schedule.HandledUpTo(since);
        return loaded;
    }

    /// <summary>Every schedule of every active job, each continuing from its stored progress.</summary>
    private async Task<List<DueSchedule>> LoadAsync(CancellationToken ct)
    {
        var loaded = await ReadAsync(null, ct);
        logger.LogDebug("Loaded {Count} active schedules", loaded.Count);
        return loaded;
    }

    /// <summary>
    /// <paramref name="current"/> with the schedules of <paramref name="changed"/> jobs read again and the rest
    /// kept as they are: a change costs the changed job's rows, whatever the number of jobs, where it cost a
    /// read of every schedule (docs/benchmarks.md). The periodic full reload still comes every
    /// <see cref="SchedulerOptions.ReloadSeconds"/>, and brings what other replicas fired.
    /// </summary>
    private async Task<List<DueSchedule>> ReloadJobsAsync(List<DueSchedule> current, IReadOnlySet<string> changed, CancellationToken ct)
    {
        var kept = current.Where(s => !changed.Contains(s.Job.Name)).ToList();
        kept.AddRange(await ReadAsync(changed.ToArray(), ct));
        logger.LogDebug("Reloaded {Count} changed jobs", changed.Count);
        return kept;
    }

    /// <summary>
    /// The schedules of the active jobs among <paramref name="names"/> (null: every job), each continuing from
    /// its stored progress; the jobs, their schedules and the progress in one round trip.
    /// </summary>
    private async Task<List<DueSchedule>> ReadAsync(string[]? names, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var batch = session.CreateBatchQuery();
        var jobs = batch.Query<Job>().Where(j => j.State == JobState.Active);
        var schedules = batch.Query<JobSchedule>();
        var progress = batch.Query<ScheduleProgress>();
        if (names is not null)
        {
            jobs = jobs.Where(j => j.Name.IsOneOf(names));
            schedules = schedules.Where(s => s.Job.IsOneOf(names));
            progress = progress.Where(p => p.Job.IsOneOf(names));
        }
        var (jobsRead, schedulesRead, progressRead) = (jobs.ToList(), schedules.ToList(), progress.ToList());
        await batch.Execute(ct);
        return Due(await jobsRead, await schedulesRead, await progressRead);
    }

    private List<DueSchedule> Due(IReadOnlyList<Job> activeJobs, IReadOnlyList<JobSchedule> schedules, IReadOnlyList<ScheduleProgress> progress)
    {
        var jobs = activeJobs.ToDictionary(j => j.Name);
        var reached = progress.ToDictionary(p => p.Id, p => p.LastOccurrenceAt);
        var loaded = new List<DueSchedule>(schedules.Count);
        foreach (var schedule in schedules)
        {
            if (!jobs.TryGetValue(schedule.Job, out var job)) continue;
            if (JobCron.TryParse(schedule.Cron, schedule.TimeZone, out var errors) is not { } cron)
            {
                logger.LogError("Schedule {Schedule} of job {Job} cannot be parsed ({Errors}); it never fires",
                    schedule.Id, job.Name, string.Join(" ", errors.Values.SelectMany(e => e)));
                continue;
            }
            // Due from the schedule's creation or the job's last resume, whichever is later, or from where it got.
            var since = new[] { schedule.CreatedAt, job.ActiveSince, reached.GetValueOrDefault(schedule.Id) }.Max();
            loaded.Add(new DueSchedule(job, schedule, cron, since));
        }
        return loaded;
    }
}
