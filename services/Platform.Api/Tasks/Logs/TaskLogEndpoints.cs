using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks.Logs;

/// <summary>
/// Task output: recorded lines (<c>/v3/tasks/{guid}/logs</c>), live lines as server-sent events
/// (<c>?follow=true</c>), and an app's recent lines across its tasks (<c>/v3/apps/{app}/logs?recent</c>).
/// </summary>
internal static class TaskLogEndpoints
{
    private const int DefaultLimit = 1000;
    private const int MaxLimit = 10_000;
    // How often a follower looks for new lines; the executor stores them every 50 ms, so a printed line
    // reaches a follower in a few hundred milliseconds.
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(150);

    internal sealed record LogLineResource(long Sequence, string Stream, DateTimeOffset Timestamp, string Line);

    internal sealed record AppLogLineResource(Guid TaskGuid, string TaskName, long Sequence, string Stream, DateTimeOffset Timestamp, string Line);

    internal sealed record LogPage(IReadOnlyList<LogLineResource> Resources, Link? Next);

    internal sealed record AppLogPage(IReadOnlyList<AppLogLineResource> Resources);

    public static RouteGroupBuilder MapTaskLogs(this RouteGroupBuilder v3)
    {
        v3.MapGet("/tasks/{guid:guid}/logs", Read).Describe("GetTaskLogs", 404, 422).Produces<LogPage>()
            .WithDescription("Recorded lines, paged by after and limit. With follow=true the answer is text/event-stream instead: " +
                "a 'log' event per line (data: one LogLineResource), then one 'end' event (data: the TaskResource as it ended).");
        v3.MapGet("/apps/{app}/logs", ReadForApp).Describe("GetRecentAppLogs", 404, 422).Produces<AppLogPage>();
        return v3;
    }

    private static string StreamName(LogStream stream) => stream == LogStream.Stdout ? "stdout" : "stderr";

    private static LogLineResource Resource(TaskLogLine line) => new(line.Sequence, StreamName(line.Stream), line.Timestamp, line.Line);

    private static async Task<IResult> Read(
        Guid guid, Caller caller, IQuerySession session, TaskLogStore logs, long? after, int? limit, bool? follow, HttpContext http,
        IOptions<JsonOptions> json, IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        if (await session.LoadAsync<AppTask>(guid, ct) is not { } task) return Problems.NotFound("Task", guid.ToString());
        if (await caller.RefuseAsync(task.Space, Permission.ReadLogs, "Task", guid.ToString(), ct) is { } refused) return refused;
        if (limit is < 1 or > MaxLimit) return Problems.Invalid("limit", $"limit must be between 1 and {MaxLimit}.");
        if (after is < 0) return Problems.Invalid("after", "after must be 0 or more.");
        if (follow == true)
        {
            await FollowAsync(guid, caller, session, logs, after ?? 0, http, json.Value.SerializerOptions, lifetime.ApplicationStopping, ct);
            return Results.Empty;
        }
        var take = limit ?? DefaultLimit;
        var lines = await logs.ReadAsync(guid, after ?? 0, take, ct);
        return TypedResults.Ok(new LogPage(
            lines.Select(Resource).ToList(),
            lines.Count == take ? new Link($"/v3/tasks/{guid}/logs?after={lines[^1].Sequence}&limit={take}") : null));
    }

    /// <summary>
    /// Server-sent events: a <c>log</c> event per line as it is stored, then one <c>end</c> event with the
    /// task's final state, after which the stream closes. The state is read before the lines each round, and
    /// an executor stores all output before the terminal event, so no line is missed at the end. When the Api
    /// shuts down, a follower gets a <c>shutdown</c> event naming the last line sent (to continue with
    /// <c>?after=</c> on another replica) and a closed stream, instead of a connection cut mid-line.
    /// </summary>
    private static async Task FollowAsync(
        Guid guid, Caller caller, IQuerySession session, TaskLogStore logs, long after, HttpContext http, JsonSerializerOptions json,
        CancellationToken stopping, CancellationToken ct)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.Body.FlushAsync(ct);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var task = await session.LoadAsync<AppTask>(guid, ct);
                if (task is null) return; // deleted while followed
                IReadOnlyList<TaskLogLine> lines;
                do
                {
                    lines = await logs.ReadAsync(guid, after, MaxLimit, ct);
                    foreach (var line in lines)
                    {
                        await http.Response.WriteAsync($"id: {line.Sequence}\nevent: log\ndata: {JsonSerializer.Serialize(Resource(line), json)}\n\n", ct);
                        after = line.Sequence;
                    }
                    await http.Response.Body.FlushAsync(ct);
                } while (lines.Count == MaxLimit);

                if (task.State.IsTerminal())
                {
                    await http.Response.WriteAsync($"event: end\ndata: {JsonSerializer.Serialize(TaskResource.From(task, caller), json)}\n\n", ct);
                    return;
                }
                if (stopping.IsCancellationRequested) break;
                try
                {
                    await Task.Delay(FollowPoll, stopping);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                }
            }
            if (stopping.IsCancellationRequested)
                await http.Response.WriteAsync($"event: shutdown\ndata: {JsonSerializer.Serialize(new { Reason = "the api is shutting down", After = after }, json)}\n\n", ct);
        }
        catch (OperationCanceledException)
        {
            // The follower went away.
        }
    }

    /// <summary>As <c>cf logs APP --recent</c>: the newest lines of all the app's tasks, interleaved by time, each tagged with its task.</summary>
    private static async Task<IResult> ReadForApp(string app, Caller caller, IQuerySession session, TaskLogStore logs, int? limit, CancellationToken ct)
    {
        if (await Apps.AppEndpoints.RefuseAsync(app, Permission.ReadLogs, caller, session, ct) is { } refused) return refused;
        if (limit is < 1 or > MaxLimit) return Problems.Invalid("limit", $"limit must be between 1 and {MaxLimit}.");
        var lines = await logs.ReadRecentForAppAsync(app, limit ?? DefaultLimit, ct);
        return TypedResults.Ok(new AppLogPage(
            lines.Select(l => new AppLogLineResource(l.TaskId, l.TaskName, l.Sequence, StreamName(l.Stream), l.Timestamp, l.Line)).ToList()));
    }
}
