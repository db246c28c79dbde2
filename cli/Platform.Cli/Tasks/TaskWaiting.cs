using System.Diagnostics;
using System.Text.Json.Nodes;
using Platform.Cli.Logs;
using Platform.Cli.Output;

namespace Platform.Cli.Tasks;

/// <summary>
/// <c>--wait</c>: shows the task's log live, then its outcome as the exit code (0 succeeded, 1 failed,
/// 2 cancelled, 3 the wait's <c>--timeout</c> came first and the task keeps running). On a terminal a
/// progress line on stderr shows the state and the time waited.
/// </summary>
internal static class TaskWaiting
{
    public const string CancelledReason = "task was cancelled";

    public static async Task<int> WaitAsync(CliContext context, string app, JsonNode task, TimeSpan? timeout, CancellationToken ct)
    {
        var terminal = context.Terminal;
        var guid = TaskLookup.Guid(task);
        var name = task["name"]!.GetValue<string>();
        var id = task["sequence_id"]!.GetValue<long>();
        var waited = Stopwatch.StartNew();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } wait) limit.CancelAfter(wait);
        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
        var state = task["state"]?.GetValue<string>() ?? "PENDING";
        var progress = terminal.ShowsProgress && !context.Json
            ? ShowProgressAsync(context, guid, id, s => state = s, () => state, waited, progressStop.Token)
            : Task.CompletedTask;
        JsonNode ended;
        try
        {
            ended = await TaskFollower.FollowAsync(context.Api, guid,
                line => { if (!context.Json) terminal.Line(LogLine.Format(line, name, terminal)); }, limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await StopAsync(progressStop, progress, terminal);
            // The state as it is now: off a terminal nothing polled it while the log was followed.
            var now = await context.Api.GetAsync($"/v3/tasks/{guid}", ct);
            throw new CliFailure(ExitCodes.WaitTimedOut,
                $"task {id} is still {now?["state"] ?? state} after {Formats.Duration(waited.Elapsed)}; it keeps running (platform task {app} {id}).");
        }
        finally
        {
            await StopAsync(progressStop, progress, terminal);
        }

        var outcome = Outcome(ended);
        if (context.Json) terminal.Json(ended);
        else
        {
            var reason = ended["result"]?["failure_reason"]?.GetValue<string>();
            terminal.Line(outcome == ExitCodes.Success
                ? terminal.Green($"Task {id} ({name}) SUCCEEDED")
                : terminal.Red($"Task {id} ({name}) {(outcome == ExitCodes.TaskCancelled ? "CANCELLED" : "FAILED")}: {reason}"));
        }
        return outcome;
    }

    public static int Outcome(JsonNode task) => task["state"]?.GetValue<string>() switch
    {
        "SUCCEEDED" => ExitCodes.Success,
        _ when task["result"]?["failure_reason"]?.GetValue<string>() == CancelledReason => ExitCodes.TaskCancelled,
        _ => ExitCodes.TaskFailed,
    };

    private static async Task ShowProgressAsync(
        CliContext context, Guid guid, long id, Action<string> setState, Func<string> state, Stopwatch waited, CancellationToken ct)
    {
        TimeSpan? lastPoll = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (lastPoll is null || waited.Elapsed - lastPoll >= TimeSpan.FromSeconds(1))
                {
                    lastPoll = waited.Elapsed;
                    try
                    {
                        if ((await context.Api.GetAsync($"/v3/tasks/{guid}", ct))?["state"]?.GetValue<string>() is { } now) setState(now);
                    }
                    catch (CliFailure)
                    {
                        // Progress is a courtesy; the follower reports real trouble.
                    }
                }
                context.Terminal.Status($"task {id} {state()} {Formats.Duration(waited.Elapsed)}");
                await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task progress, Terminal terminal)
    {
        await stop.CancelAsync();
        await progress;
        terminal.Status(null);
    }
}
