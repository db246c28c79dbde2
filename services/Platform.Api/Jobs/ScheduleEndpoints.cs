using Marten;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.TaskStore.Audit;
using Platform.TaskStore.Jobs;

namespace Platform.Api.Jobs;

/// <summary>A job's cron schedules, several per job as the PCF Scheduler allows: <c>/v3/jobs/{job}/schedules</c>.</summary>
internal static class ScheduleEndpoints
{
    public sealed record AddSchedule(string? Cron, string? TimeZone);

    internal sealed record ScheduleList(IReadOnlyList<ScheduleResource> Resources);

    public static RouteGroupBuilder MapSchedules(this RouteGroupBuilder v3)
    {
        v3.MapPost("/jobs/{job}/schedules", Add).Describe("AddJobSchedule", 400, 404, 409, 422).Produces<ScheduleResource>(StatusCodes.Status201Created);
        v3.MapGet("/jobs/{job}/schedules", List).Describe("ListJobSchedules", 404).Produces<ScheduleList>();
        v3.MapDelete("/jobs/{job}/schedules/{id:guid}", Remove).Describe("RemoveJobSchedule", 404).Produces(StatusCodes.Status204NoContent);
        return v3;
    }

    /// <summary>Occurrences are due from now on; the Scheduler hears of it at once (NOTIFY).</summary>
    private static async Task<IResult> Add(
        string job, AddSchedule request, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        var (found, refusal) = await JobEndpoints.FindAsync(job, Permission.ManageJobs, caller, session, ct);
        if (found is null) return refusal!;
        if (found.State == JobState.Deleting) return JobEndpoints.BeingDeleted(job);
        if (JobCron.TryParse(request.Cron, request.TimeZone, out var errors) is null) return Problems.Invalid(errors);

        var now = clock.GetUtcNow();
        var schedule = new JobSchedule
        {
            Id = Guid.CreateVersion7(),
            Job = found.Name,
            Cron = request.Cron!.Trim(),
            TimeZone = string.IsNullOrWhiteSpace(request.TimeZone) ? "UTC" : request.TimeZone,
            CreatedAt = now,
        };
        session.Insert(schedule);
        AuditEntry.ForJob(session, "schedule.create", found.Name, found.Space, caller.Description, now);
        await session.SaveChangesAsync(ct);
        await changes.NotifyAsync(found.Name, ct);
        return TypedResults.Created($"/v3/jobs/{job}/schedules/{schedule.Id}", ScheduleResource.From(schedule, now));
    }

    private static async Task<IResult> List(string job, Caller caller, IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        if ((await JobEndpoints.FindAsync(job, Permission.ReadJobs, caller, session, ct)).Refusal is { } refused) return refused;
        var schedules = await session.Query<JobSchedule>().Where(s => s.Job == job).OrderBy(s => s.CreatedAt).ToListAsync(ct);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(new ScheduleList(schedules.Select(s => ScheduleResource.From(s, now)).ToList()));
    }

    /// <summary>The schedule and its progress go; the occurrences it recorded stay in the job's history.</summary>
    private static async Task<IResult> Remove(
        string job, Guid id, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        var (found, refusal) = await JobEndpoints.FindAsync(job, Permission.ManageJobs, caller, session, ct);
        if (found is null) return refusal!;
        if (await session.LoadAsync<JobSchedule>(id, ct) is not { } schedule || schedule.Job != job)
            return Problems.NotFound("Schedule", id.ToString());
        session.Delete<JobSchedule>(id);
        session.Delete<ScheduleProgress>(id);
        AuditEntry.ForJob(session, "schedule.delete", found.Name, found.Space, caller.Description, clock.GetUtcNow());
        await session.SaveChangesAsync(ct);
        await changes.NotifyAsync(job, ct);
        return TypedResults.NoContent();
    }
}
