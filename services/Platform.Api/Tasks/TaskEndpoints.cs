using Marten;
using MassTransit;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Http;
using Platform.Api.Tasks.Cancelling;
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
    /// then <see cref="RunTask"/> is published for the executors. 202, since the task runs later.
    /// </summary>
    private static async Task<IResult> Create(
        string app, CreateTask request, IDocumentSession session, AppSequences sequences, IPublishEndpoint bus,
        ApiTelemetry telemetry, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<App>(app, ct) is not { } registered) return Problems.NotFound("App", app);
        var overrides = new TaskOverrides(request.Command, request.Name, request.MemoryInMb, request.DiskInMb, request.Env,
            request.TimeoutSeconds, request.TerminationGracePeriodSeconds, request.MaxAttempts);
        var errors = TaskDefinition.Validate(overrides, registered);
        if (errors.Count > 0) return Problems.Invalid(errors);

        var accepted = Accept(registered, overrides, null, await sequences.NextAsync(registered.Name, ct), session, clock);
        await session.SaveChangesAsync(ct);
        telemetry.Accepted(accepted);
        return await PublishAsync(accepted, bus, ct);
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

    /// <summary>After the task's stream is stored: <see cref="RunTask"/> for the executors, and the 202 with the task.</summary>
    internal static async Task<IResult> PublishAsync(TaskAccepted accepted, IPublishEndpoint bus, CancellationToken ct)
    {
        var task = TaskLifecycle.Accept(accepted);
        await bus.Publish(TaskMessages.RunTask(task), ct);
        return TypedResults.Accepted($"/v3/tasks/{accepted.TaskId}", TaskResource.From(task));
    }

    private static async Task<IResult> Get(Guid guid, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<AppTask>(guid, ct) is { } task ? TypedResults.Ok(TaskResource.From(task)) : Problems.NotFound("Task", guid.ToString());

    /// <summary>An app's tasks, newest first.</summary>
    private static async Task<IResult> ListForApp(
        string app, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        // One round trip for the app, the count and the page.
        var batch = session.CreateBatchQuery();
        var registered = batch.Load<App>(app);
        var total = batch.Query<AppTask>().Where(t => t.App == app).Count();
        var tasks = batch.Query<AppTask>().Where(t => t.App == app)
            .OrderByDescending(t => t.SequenceId).Skip(request.Skip).Take(request.PerPage).ToList();
        await batch.Execute(ct);
        if (await registered is null) return Problems.NotFound("App", app);
        return TypedResults.Ok(Page<TaskResource>.Of((await tasks).Select(TaskResource.From).ToList(), await total, request, $"/v3/apps/{app}/tasks"));
    }

    internal sealed record TaskEvent(long Version, string Type, DateTimeOffset Timestamp, object Data);

    internal sealed record TaskEventList(IReadOnlyList<TaskEvent> Resources);

    /// <summary>The task's history: its stream's events, in order.</summary>
    private static async Task<IResult> Events(Guid guid, IQuerySession session, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(guid, token: ct);
        if (events.Count == 0) return Problems.NotFound("Task", guid.ToString());
        return TypedResults.Ok(new TaskEventList(events.Select(e => new TaskEvent(e.Version, e.EventTypeName, e.Timestamp, e.Data)).ToList()));
    }
}
