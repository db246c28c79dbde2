using Microsoft.Extensions.Options;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.Api.Tasks.Cancelling;
using Platform.Api.Tasks.Dispatching;
using Platform.Api.Tasks.Logs;
using Platform.Api.Telemetry;
using Platform.Contracts;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks;

/// <summary>Running a task and reading its state, history and logs.</summary>
internal static class TaskEndpoints
{
    public sealed record CreateTask(
        string? Command, string? Name, int? MemoryInMb, int? DiskInMb, Dictionary<string, string>? Env,
        int? TimeoutSeconds, int? TerminationGracePeriodSeconds, int? MaxAttempts);

    public static RouteGroupBuilder MapTasks(this RouteGroupBuilder v3)
    {
        v3.MapPost("/apps/{app}/tasks", Create).Describe("RunTask", 400, 404, 422).Produces<TaskResource>(StatusCodes.Status202Accepted);
        v3.MapGet("/apps/{app}/tasks", ListForApp).Describe("ListAppTasks", 404, 422).Produces<Page<TaskResource>>();
        v3.MapGet("/tasks/{guid:guid}", Get).Describe("GetTask", 404).Produces<TaskResource>();
        v3.MapGet("/tasks/{guid:guid}/events", Events).Describe("GetTaskEvents", 404).Produces<TaskEventList>();
        v3.MapTaskLogs();
        v3.MapPost("/tasks/{guid:guid}/actions/cancel", CancelTaskEndpoint.Cancel).Describe("CancelTask", 404, 422).Produces<TaskResource>(StatusCodes.Status202Accepted);
        return v3;
    }

    /// <summary>
    /// Accepts a task: the stream's first event is written (the projection with it, in one transaction),
    /// then <see cref="RunTask"/> is published for the executors. 202, since the task runs later. While
    /// PostgreSQL is unreachable this is a 503 (<see cref="StoreUnavailableHandler"/>): nothing was accepted.
    /// </summary>
    private static async Task<IResult> Create(
        string app, CreateTask request, Caller caller, IDocumentSession session, AppSequences sequences, RunTaskDispatch dispatch,
        IOptions<UnfinishedTaskLimitOptions> limits, ApiTelemetry telemetry, TimeProvider clock, CancellationToken ct)
    {
        var (found, unfinished) = await UnfinishedTaskCounts.WithAppAsync(session, app, ct);
        if (found is not { } registered) return Problems.NotFound("App", app);
        if (await caller.RefuseAsync(registered.Space, Permission.RunTasks, "App", app, ct) is { } refused) return refused;
        var overrides = new TaskOverrides(request.Command, request.Name, request.MemoryInMb, request.DiskInMb, request.Env,
            request.TimeoutSeconds, request.TerminationGracePeriodSeconds, request.MaxAttempts);
        var errors = TaskDefinition.Validate(overrides, registered);
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (limits.Value.Exceeded(registered, unfinished) is { } limit) return Problems.Invalid("limit", limit);

        var accepted = Accept(registered, overrides, null, await sequences.NextAsync(registered.Name, ct), session, clock);
        session.LastModifiedBy = caller.Description;
        await session.SaveChangesAsync(ct);
        telemetry.Accepted(accepted);
        return await PublishAsync(accepted, caller, dispatch);
    }

    /// <summary>
    /// Starts the stream of a validated task in <paramref name="session"/> (stored when it is saved): the one
    /// path for a task created through the Api, directly or as an ad hoc run of a job (<paramref name="origin"/>).
    /// The sequence id is taken by the caller before it holds a connection of its own (see OccurrenceFirer).
    /// </summary>
    internal static TaskAccepted Accept(
        App app, TaskOverrides overrides, TaskOrigin? origin, long sequenceId, IDocumentSession session, TimeProvider clock)
    {
        var accepted = TaskDefinition.Accept(NewId.NextSequentialGuid(), sequenceId, overrides, app, clock.GetUtcNow(), origin);
        session.Events.StartStream<AppTask>(accepted.TaskId, accepted);
        return accepted;
    }

    /// <summary>
    /// After the task's stream is stored: <see cref="RunTask"/> for the executors, and the 202 with the task,
    /// which does not wait for a broker that is away (<see cref="RunTaskDispatch"/>).
    /// </summary>
    internal static async Task<IResult> PublishAsync(TaskAccepted accepted, Caller caller, RunTaskDispatch dispatch)
    {
        var task = TaskLifecycle.Accept(accepted);
        await dispatch.DispatchAsync(task);
        return TypedResults.Accepted($"/v3/tasks/{accepted.TaskId}", TaskResource.From(task, caller));
    }

    private static async Task<IResult> Get(Guid guid, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<AppTask>(guid, ct) is not { } task) return Problems.NotFound("Task", guid.ToString());
        return await caller.RefuseAsync(task.Space, Permission.ReadTasks, "Task", guid.ToString(), ct) ?? TypedResults.Ok(TaskResource.From(task, caller));
    }

    /// <summary>An app's tasks, newest first.</summary>
    private static async Task<IResult> ListForApp(
        string app, Caller caller, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        // One round trip for the app, the count and the page.
        var batch = session.CreateBatchQuery();
        var registered = batch.Load<App>(app);
        var total = batch.Query<AppTask>().Where(t => t.App == app).Count();
        var tasks = batch.Query<AppTask>().Where(t => t.App == app)
            .OrderByDescending(t => t.SequenceId).Skip(request.Skip).Take(request.PerPage).ToList();
        await batch.Execute(ct);
        if (await registered is not { } found) return Problems.NotFound("App", app);
        if (await caller.RefuseAsync(found.Space, Permission.ReadTasks, "App", app, ct) is { } refused) return refused;
        return TypedResults.Ok(Page<TaskResource>.Of((await tasks).Select(t => TaskResource.From(t, caller)).ToList(), await total, request, $"/v3/apps/{app}/tasks"));
    }

    internal sealed record TaskEvent(long Version, string Type, DateTimeOffset Timestamp, object Data, string? By);

    internal sealed record TaskEventList(IReadOnlyList<TaskEvent> Resources);

    /// <summary>
    /// The task's history: its stream's events, in order, each with who did it (<c>by</c>: the subject and
    /// the means, for what came through the Api; null for what the platform did itself). The accepted
    /// event's command and environment are redacted as the task's own fields are.
    /// </summary>
    private static async Task<IResult> Events(Guid guid, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<AppTask>(guid, ct) is not { } task) return Problems.NotFound("Task", guid.ToString());
        if (await caller.RefuseAsync(task.Space, Permission.ReadTasks, "Task", guid.ToString(), ct) is { } refused) return refused;
        var events = await session.Events.FetchStreamAsync(guid, token: ct);
        if (events.Count == 0) return Problems.NotFound("Task", guid.ToString());
        var commands = caller.May(task.Space, Permission.SeeCommands);
        var values = caller.May(task.Space, Permission.SeeEnvironmentValues);
        return TypedResults.Ok(new TaskEventList(events.Select(e => new TaskEvent(e.Version, e.EventTypeName, e.Timestamp,
            e.Data is TaskAccepted accepted ? Redact(accepted, commands, values) : e.Data, e.UserName)).ToList()));
    }

    private static TaskAccepted Redact(TaskAccepted accepted, bool commands, bool values) => accepted with
    {
        Command = commands ? accepted.Command : RolePermissions.Redacted,
        Env = values ? accepted.Env : accepted.Env.ToDictionary(e => e.Key, _ => RolePermissions.Redacted),
    };
}
