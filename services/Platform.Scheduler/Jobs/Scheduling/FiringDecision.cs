using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>What becomes of an occurrence that is due: its task starts, or it is skipped and why.</summary>
public abstract record FiringDecision
{
    private FiringDecision() { }

    /// <summary>Start <paramref name="Task"/>; for Replace, <paramref name="Replaced"/> are the job's unfinished tasks to cancel first.</summary>
    public sealed record Fire(TaskAccepted Task, IReadOnlyList<Guid> Replaced) : FiringDecision;

    /// <summary>Start nothing, and record the occurrence as skipped with <paramref name="Reason"/>.</summary>
    public sealed record Skip(string Reason) : FiringDecision;

    /// <summary>
    /// The scheduler's decision for the occurrence of <paramref name="scheduleId"/> at <paramref name="at"/>, from the
    /// facts its firing gathered inside its transaction: the job, its app (null when deleted), the job's
    /// unfinished tasks (looked up only for Forbid and Replace) and the unfinished tasks of the app and of its
    /// space (<paramref name="counts"/>). Always fires whatever of the job runs; Forbid is skipped while any
    /// task of the job is unfinished; Replace fires and ends the unfinished ones, which therefore do not count
    /// against the limits. An occurrence past <paramref name="limits"/> is skipped, naming the limit, as the
    /// Api refuses a task past them.
    /// </summary>
    public static FiringDecision Decide(
        Job job, Guid scheduleId, DateTimeOffset at, App? app, IReadOnlyList<Guid> unfinished,
        UnfinishedTaskCounts counts, UnfinishedTaskLimitOptions limits, long sequenceId, DateTimeOffset now)
    {
        if (job.ConcurrencyPolicy == ConcurrencyPolicy.Forbid && unfinished.Count > 0)
            return new Skip($"skipped: concurrency policy Forbid, and task {unfinished[0]} of the job has not ended");
        if (app is null) return new Skip($"skipped: the app '{job.App}' no longer exists");
        var overrides = JobTasks.Overrides(job);
        var errors = TaskDefinition.Validate(overrides, app);
        if (errors.Count > 0) return new Skip("skipped: " + string.Join(" ", errors.Values.SelectMany(e => e)));
        var replaced = job.ConcurrencyPolicy == ConcurrencyPolicy.Replace ? unfinished : [];
        var remaining = counts with { OfApp = counts.OfApp - replaced.Count, OfSpace = counts.OfSpace - replaced.Count };
        if (limits.Exceeded(app, remaining) is { } limit) return new Skip("skipped: " + limit);
        var task = TaskDefinition.Accept(
            OccurrenceIds.For(job.Name, scheduleId, at), sequenceId, overrides, app, now, new TaskOrigin(job.Name, scheduleId, at));
        return new Fire(task, replaced);
    }
}
