using Microsoft.Extensions.Options;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Access;
using Platform.Api.Apps;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.Api.Tasks;
using Platform.Api.Tasks.Dispatching;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Audit;
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

    private static async Task<IResult> Create(string app, CreateJob request, Caller caller, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<App>(app, ct) is not { } registered) return Problems.NotFound("App", app);
        if (await caller.RefuseAsync(registered.Space, Permission.ManageJobs, "App", app, ct) is { } refused) return refused;
        var errors = new Dictionary<string, string[]>();
        JobRules.ValidateName(request.Name, errors);
        var policy = JobRules.ParsePolicy(request.ConcurrencyPolicy, errors);
        var now = clock.GetUtcNow();
        var job = new Job
        {
            Name = request.Name ?? "",
            App = registered.Name,
            Space = registered.Space,
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

        // A job name is unique across apps.
        AuditEntry.ForJob(session, "create", job.Name, job.Space, caller.Description, now);
        return await Creation.InsertAsync(session, job, $"A job named '{job.Name}' already exists.",
            () => TypedResults.Created($"/v3/jobs/{job.Name}", JobResource.From(job, caller)), ct);
    }

    /// <summary>The jobs of the spaces the caller has a role in (every job for an admin).</summary>
    private static async Task<IResult> List(Caller caller, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        var jobs = session.Query<Job>().AsQueryable();
        if (caller.VisibleSpaces is { } visible) jobs = jobs.Where(j => j.Space.IsOneOf(visible.ToArray()));
        return await ListAsync(jobs, caller, "/v3/jobs", page, perPage, ct);
    }

    private static async Task<IResult> ListForApp(
        string app, Caller caller, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (await AppEndpoints.RefuseAsync(app, Permission.ReadJobs, caller, session, ct) is { } refused) return refused;
        return await ListAsync(session.Query<Job>().Where(j => j.App == app), caller, $"/v3/apps/{app}/jobs", page, perPage, ct);
    }

    private static async Task<IResult> ListAsync(IQueryable<Job> jobs, Caller caller, string path, int? page, int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var total = await jobs.CountAsync(ct);
        var found = await jobs.OrderBy(j => j.Name).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<JobResource>.Of(found.Select(j => JobResource.From(j, caller)).ToList(), total, request, path));
    }

    /// <summary>The job, when the caller may do <paramref name="permission"/> to it; otherwise the 404 or 403 to answer.</summary>
    internal static async Task<(Job? Job, IResult? Refusal)> FindAsync(
        string job, Permission permission, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Job>(job, ct) is not { } found) return (null, Problems.NotFound("Job", job));
        return await caller.RefuseAsync(found.Space, permission, "Job", job, ct) is { } refused ? (null, refused) : (found, null);
    }

    private static async Task<IResult> Get(string job, Caller caller, IQuerySession session, CancellationToken ct)
    {
        var (found, refusal) = await FindAsync(job, Permission.ReadJobs, caller, session, ct);
        return found is null ? refusal! : TypedResults.Ok(JobResource.From(found, caller));
    }

    private static async Task<IResult> Change(
        string job, ChangeJob request, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        var (found, refusal) = await FindAsync(job, Permission.ManageJobs, caller, session, ct);
        if (found is null) return refusal!;
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
        return await SaveAsync(found, "update", caller, session, changes, clock, ct);
    }

    private static async Task<IResult> Suspend(string job, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct) =>
        await ChangeStateAsync(job, JobState.Suspended, caller, session, changes, clock, ct);

    /// <summary>Occurrences while it was suspended are neither run nor counted as missed.</summary>
    private static async Task<IResult> Resume(string job, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct) =>
        await ChangeStateAsync(job, JobState.Active, caller, session, changes, clock, ct);

    private static async Task<IResult> ChangeStateAsync(
        string job, JobState state, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        var (found, refusal) = await FindAsync(job, Permission.OperateJobs, caller, session, ct);
        if (found is null) return refusal!;
        if (found.State == JobState.Deleting) return BeingDeleted(job);
        if (found.State == state) return TypedResults.Ok(JobResource.From(found, caller));
        found.State = state;
        if (state == JobState.Active) found.ActiveSince = clock.GetUtcNow();
        return await SaveAsync(found, state == JobState.Active ? "resume" : "suspend", caller, session, changes, clock, ct);
    }

    private static async Task<IResult> SaveAsync(
        Job job, string auditType, Caller caller, IDocumentSession session, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        job.UpdatedAt = clock.GetUtcNow();
        session.Update(job);
        AuditEntry.ForJob(session, auditType, job.Name, job.Space, caller.Description, job.UpdatedAt);
        await session.SaveChangesAsync(ct);
        await changes.NotifyAsync(job.Name, ct);
        return TypedResults.Ok(JobResource.From(job, caller));
    }

    /// <summary>Runs the job now, as <c>kf run-job</c>: a task like any other, recorded as the job's (with no occurrence).</summary>
    private static async Task<IResult> Run(
        string job, Caller caller, IQuerySession query, JobGuard guard, AppSequences sequences, RunTaskDispatch dispatch, IOptions<UnfinishedTaskLimitOptions> limits,
        TimeProvider clock, CancellationToken ct)
    {
        var (found, refusal) = await FindAsync(job, Permission.OperateJobs, caller, query, ct);
        if (found is null) return refusal!;
        if (await query.LoadAsync<App>(found.App, ct) is not { } app) return Problems.NotFound("App", found.App);
        var overrides = JobTasks.Overrides(found);
        var errors = TaskDefinition.Validate(overrides, app);
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (limits.Value.Exceeded(app, await UnfinishedTaskCounts.OfAsync(query, app, ct)) is { } limit) return Problems.Invalid("limit", limit);

        TaskAccepted accepted;
        var sequenceId = await sequences.NextAsync(app.Name, ct);
        await using (var guarded = await guard.WhileNotDeletingAsync(found.Name, ct))
        {
            if (guarded is null) return BeingDeleted(job);
            accepted = TaskEndpoints.Accept(app, overrides, new TaskOrigin(found.Name, null, null), sequenceId, guarded.Session, clock);
            guarded.Session.LastModifiedBy = caller.Description;
            await guarded.CommitAsync(ct);
        }
        return await TaskEndpoints.PublishAsync(accepted, caller, dispatch);
    }

    /// <summary>The job's tasks, newest first, each with the occurrence it was fired for (none for an ad hoc run).</summary>
    private static async Task<IResult> Tasks(
        string job, Caller caller, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if ((await FindAsync(job, Permission.ReadTasks, caller, session, ct)).Refusal is { } refused) return refused;
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var query = session.Query<AppTask>().Where(t => t.Job == job);
        var total = await query.CountAsync(ct);
        var tasks = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.SequenceId)
            .Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<TaskResource>.Of(tasks.Select(t => TaskResource.From(t, caller)).ToList(), total, request, $"/v3/jobs/{job}/tasks"));
    }

    /// <summary>What became of each occurrence, newest first; <c>?outcome=missed</c> (or fired, skipped) filters.</summary>
    private static async Task<IResult> Occurrences(
        string job, Caller caller, IQuerySession session, string? outcome, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if ((await FindAsync(job, Permission.ReadJobs, caller, session, ct)).Refusal is { } refused) return refused;
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        OccurrenceOutcome? wanted = null;
        if (outcome is not null)
        {
            if (!Enum.TryParse<OccurrenceOutcome>(outcome, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                return Problems.Invalid("outcome", $"'{outcome}' is not an outcome: use fired, skipped or missed.");
            wanted = parsed;
        }
        var query = session.Query<JobOccurrence>().Where(o => o.Job == job);
        if (wanted is { } only) query = query.Where(o => o.Outcome == only);
        var total = await query.CountAsync(ct);
        var found = await query.OrderByDescending(o => o.OccurrenceAt).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<OccurrenceResource>.Of(found.Select(OccurrenceResource.From).ToList(), total, request, $"/v3/jobs/{job}/occurrences"));
    }

    internal static IResult BeingDeleted(string job) =>
        Problems.Conflict($"The job '{job}' is being deleted; DELETE /v3/jobs/{job} again to finish if it did not.");
}
