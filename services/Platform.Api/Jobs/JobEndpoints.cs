using Marten;
using MassTransit;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Http;
using Platform.Api.Tasks;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Jobs;

/// <summary>
/// Jobs, as <c>kf create-job</c>, <c>kf jobs</c>, <c>kf run-job</c> and the PCF Scheduler have them:
/// <c>/v3/apps/{app}/jobs</c> and <c>/v3/jobs/{job}</c>, their schedules, runs, history and occurrences.
/// </summary>
internal static class JobEndpoints
{
    public sealed record CreateJob(
        string? Name, string? Command, int? MemoryInMb, int? DiskInMb, string? ConcurrencyPolicy, int? StartingDeadlineSeconds);

    /// <summary>Fields left out (or null) are unchanged.</summary>
    public sealed record ChangeJob(string? Command, int? MemoryInMb, int? DiskInMb, string? ConcurrencyPolicy, int? StartingDeadlineSeconds);

    public static RouteGroupBuilder MapJobs(this RouteGroupBuilder v3)
    {
        v3.MapPost("/apps/{app}/jobs", Create).Describe("CreateJob", 400, 404, 409, 422).Produces<JobResource>(StatusCodes.Status201Created);
        v3.MapGet("/apps/{app}/jobs", ListForApp).Describe("ListAppJobs", 404, 422).Produces<Page<JobResource>>();
        v3.MapGet("/jobs", List).Describe("ListJobs", 422).Produces<Page<JobResource>>();
        v3.MapGet("/jobs/{job}", Get).Describe("GetJob", 404).Produces<JobResource>();
        v3.MapPatch("/jobs/{job}", Change).Describe("UpdateJob", 400, 404, 409, 422).Produces<JobResource>();
        v3.MapDelete("/jobs/{job}", JobDeletion.Delete).Describe("DeleteJob", 404, 409).Produces(StatusCodes.Status204NoContent);
        v3.MapPost("/jobs/{job}/actions/run", Run).Describe("RunJob", 404, 409, 422).Produces<TaskResource>(StatusCodes.Status202Accepted);
        v3.MapPost("/jobs/{job}/actions/suspend", Suspend).Describe("SuspendJob", 404, 409).Produces<JobResource>();
        v3.MapPost("/jobs/{job}/actions/resume", Resume).Describe("ResumeJob", 404, 409).Produces<JobResource>();
        v3.MapGet("/jobs/{job}/tasks", Tasks).Describe("ListJobTasks", 404, 422).Produces<Page<TaskResource>>();
        v3.MapGet("/jobs/{job}/occurrences", Occurrences).Describe("ListJobOccurrences", 404, 422).Produces<Page<OccurrenceResource>>();
        v3.MapSchedules();
        return v3;
    }

    private static async Task<IResult> Create(string app, CreateJob request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<App>(app, ct) is not { } registered) return Problems.NotFound("App", app);
        var errors = new Dictionary<string, string[]>();
        JobRules.ValidateName(request.Name, errors);
        var policy = JobRules.ParsePolicy(request.ConcurrencyPolicy, errors);
        var now = clock.GetUtcNow();
        var job = new Job
        {
            Name = request.Name ?? "",
            App = registered.Name,
            Command = request.Command,
            MemoryInMb = request.MemoryInMb,
            DiskInMb = request.DiskInMb,
            ConcurrencyPolicy = policy ?? ConcurrencyPolicy.Always,
            StartingDeadlineSeconds = request.StartingDeadlineSeconds,
            State = JobState.Active,
            ActiveSince = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        JobRules.Validate(job, registered, errors);
        if (errors.Count > 0) return Problems.Invalid(errors);

        // Insert, not upsert: a job name is unique across apps, and a second create is a conflict.
        session.Insert(job);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return Problems.Conflict($"A job named '{job.Name}' already exists.");
        }
        return TypedResults.Created($"/v3/jobs/{job.Name}", JobResource.From(job));
    }

    private static async Task<IResult> List(IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct) =>
        await ListAsync(session.Query<Job>(), "/v3/jobs", page, perPage, ct);

    private static async Task<IResult> ListForApp(
        string app, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (await session.LoadAsync<App>(app, ct) is null) return Problems.NotFound("App", app);
        return await ListAsync(session.Query<Job>().Where(j => j.App == app), $"/v3/apps/{app}/jobs", page, perPage, ct);
    }

    private static async Task<IResult> ListAsync(IQueryable<Job> jobs, string path, int? page, int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var total = await jobs.CountAsync(ct);
        var found = await jobs.OrderBy(j => j.Name).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<JobResource>.Of(found.Select(JobResource.From).ToList(), total, request, path));
    }

    private static async Task<IResult> Get(string job, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Job>(job, ct) is { } found ? TypedResults.Ok(JobResource.From(found)) : Problems.NotFound("Job", job);

    private static async Task<IResult> Change(string job, ChangeJob request, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<Job>(job, ct) is not { } found) return Problems.NotFound("Job", job);
        if (found.State == JobState.Deleting) return BeingDeleted(job);
        var errors = new Dictionary<string, string[]>();
        var policy = JobRules.ParsePolicy(request.ConcurrencyPolicy, errors);
        found.Command = request.Command ?? found.Command;
        found.MemoryInMb = request.MemoryInMb ?? found.MemoryInMb;
        found.DiskInMb = request.DiskInMb ?? found.DiskInMb;
        found.ConcurrencyPolicy = policy ?? found.ConcurrencyPolicy;
        found.StartingDeadlineSeconds = request.StartingDeadlineSeconds ?? found.StartingDeadlineSeconds;
        var app = await session.LoadAsync<App>(found.App, ct);
        if (app is not null) JobRules.Validate(found, app, errors);
        if (errors.Count > 0) return Problems.Invalid(errors);
        return await SaveAsync(found, session, changes, clock, ct);
    }

    private static async Task<IResult> Suspend(string job, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct) =>
        await ChangeStateAsync(job, JobState.Suspended, session, changes, clock, ct);

    /// <summary>Occurrences while it was suspended are neither run nor counted as missed.</summary>
    private static async Task<IResult> Resume(string job, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct) =>
        await ChangeStateAsync(job, JobState.Active, session, changes, clock, ct);

    private static async Task<IResult> ChangeStateAsync(
        string job, JobState state, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<Job>(job, ct) is not { } found) return Problems.NotFound("Job", job);
        if (found.State == JobState.Deleting) return BeingDeleted(job);
        if (found.State == state) return TypedResults.Ok(JobResource.From(found));
        found.State = state;
        if (state == JobState.Active) found.ActiveSince = clock.GetUtcNow();
        return await SaveAsync(found, session, changes, clock, ct);
    }

    private static async Task<IResult> SaveAsync(Job job, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        job.UpdatedAt = clock.GetUtcNow();
        session.Update(job);
        await session.SaveChangesAsync(ct);
        await changes.NotifyAsync(job.Name, ct);
        return TypedResults.Ok(JobResource.From(job));
    }

    /// <summary>Runs the job now, as <c>kf run-job</c>: a task like any other, recorded as the job's (with no occurrence).</summary>
    private static async Task<IResult> Run(
        string job, IQuerySession query, JobGuard guard, AppSequences sequences, IPublishEndpoint bus, TimeProvider clock, CancellationToken ct)
    {
        if (await query.LoadAsync<Job>(job, ct) is not { } found) return Problems.NotFound("Job", job);
        if (await query.LoadAsync<App>(found.App, ct) is not { } app) return Problems.NotFound("App", found.App);
        var overrides = JobTasks.Overrides(found);
        var errors = TaskDefinition.Validate(overrides, app);
        if (errors.Count > 0) return Problems.Invalid(errors);

        TaskAccepted accepted;
        var sequenceId = await sequences.NextAsync(app.Name, ct);
        await using (var guarded = await guard.WhileNotDeletingAsync(found.Name, ct))
        {
            if (guarded is null) return BeingDeleted(job);
            accepted = TaskEndpoints.Accept(app, overrides, new TaskOrigin(found.Name, null, null), sequenceId, guarded.Session, clock);
            await guarded.CommitAsync(ct);
        }
        return await TaskEndpoints.PublishAsync(accepted, bus, ct);
    }

    /// <summary>The job's tasks, newest first, each with the occurrence it was fired for (none for an ad hoc run).</summary>
    private static async Task<IResult> Tasks(
        string job, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        if (await session.LoadAsync<Job>(job, ct) is null) return Problems.NotFound("Job", job);
        var query = session.Query<AppTask>().Where(t => t.Job == job);
        var total = await query.CountAsync(ct);
        var tasks = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.SequenceId)
            .Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<TaskResource>.Of(tasks.Select(TaskResource.From).ToList(), total, request, $"/v3/jobs/{job}/tasks"));
    }

    /// <summary>What became of each occurrence, newest first; <c>?outcome=missed</c> (or fired, skipped) filters.</summary>
    private static async Task<IResult> Occurrences(
        string job, IQuerySession session, string? outcome, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        OccurrenceOutcome? wanted = null;
        if (outcome is not null)
        {
            if (!Enum.TryParse<OccurrenceOutcome>(outcome, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                return Problems.Invalid("outcome", $"'{outcome}' is not an outcome: use fired, skipped or missed.");
            wanted = parsed;
        }
        if (await session.LoadAsync<Job>(job, ct) is null) return Problems.NotFound("Job", job);
        var query = session.Query<JobOccurrence>().Where(o => o.Job == job);
        if (wanted is { } only) query = query.Where(o => o.Outcome == only);
        var total = await query.CountAsync(ct);
        var found = await query.OrderByDescending(o => o.OccurrenceAt).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<OccurrenceResource>.Of(found.Select(OccurrenceResource.From).ToList(), total, request, $"/v3/jobs/{job}/occurrences"));
    }

    internal static IResult BeingDeleted(string job) =>
        Problems.Conflict($"The job '{job}' is being deleted; DELETE /v3/jobs/{job} again to finish if it did not.");
}
