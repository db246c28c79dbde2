using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.TaskStore.Jobs;

namespace Platform.Api.Jobs;

/// <summary>A job as the API shows it. A null command or limit means the app's, read when each task is created.</summary>
internal sealed record JobResource(
    string Name,
    string Space,
    string? Command,
    int? MemoryInMb,
    int? DiskInMb,
    string ConcurrencyPolicy,
    int? StartingDeadlineSeconds,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    JobRelationships Relationships,
    JobLinks Links)
{
    /// <summary>The job as <paramref name="caller"/> may see it: its command redacted unless its role shows commands.</summary>
    public static JobResource From(Job job, Caller caller) => new(
        job.Name,
        job.Space,
        job.Command is null || caller.May(job.Space, Permission.SeeCommands) ? job.Command : RolePermissions.Redacted,
        job.MemoryInMb,
        job.DiskInMb,
        job.ConcurrencyPolicy.ToString(),
        job.StartingDeadlineSeconds,
        job.State.ToString().ToUpperInvariant(),
        job.CreatedAt,
        job.UpdatedAt,
        new JobRelationships(new Tasks.AppRelationship(new Tasks.AppRef(job.App))),
        new JobLinks(
            new Link($"/v3/jobs/{job.Name}"),
            new Link($"/v3/apps/{job.App}"),
            new Link($"/v3/jobs/{job.Name}/schedules"),
            new Link($"/v3/jobs/{job.Name}/tasks"),
            new Link($"/v3/jobs/{job.Name}/occurrences")));
}

internal sealed record JobRelationships(Tasks.AppRelationship App);

internal sealed record JobLinks(Link Self, Link App, Link Schedules, Link Tasks, Link Occurrences);

/// <summary>One schedule of a job, with its next occurrence after now (null when the expression never fires again).</summary>
internal sealed record ScheduleResource(Guid Guid, string Cron, string TimeZone, DateTimeOffset? NextOccurrenceAt, DateTimeOffset CreatedAt, Link Job)
{
    public static ScheduleResource From(JobSchedule schedule, DateTimeOffset now)
    {
        var cron = JobCron.Parse(schedule);
        return new ScheduleResource(schedule.Id, schedule.Cron, schedule.TimeZone,
            cron.Expression.GetNextOccurrence(now, cron.Zone), schedule.CreatedAt, new Link($"/v3/jobs/{schedule.Job}"));
    }
}

/// <summary>What became of one occurrence: <c>FIRED</c> (with its task), <c>SKIPPED</c> or <c>MISSED</c> (with the reason).</summary>
internal sealed record OccurrenceResource(
    Guid Guid, Guid ScheduleGuid, DateTimeOffset OccurrenceAt, string Outcome, Guid? TaskGuid, string? Reason, DateTimeOffset RecordedAt, string Scheduler)
{
    public static OccurrenceResource From(JobOccurrence o) =>
        new(o.Id, o.ScheduleId, o.OccurrenceAt, o.Outcome.ToString().ToUpperInvariant(), o.TaskId, o.Reason, o.RecordedAt, o.Scheduler);
}
