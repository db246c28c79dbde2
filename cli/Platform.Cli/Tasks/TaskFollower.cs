using System.Text;
using System.Text.Json.Nodes;
using Platform.Cli.Http;

namespace Platform.Cli.Tasks;

/// <summary>
/// Reads a task's live log (<c>/v3/tasks/{guid}/logs?follow=true</c>, server-sent events): each line as the
/// executor stores it, then the task as it ended. A stream that closes early (the Api restarted) is opened
/// again after the last line seen, so no line is shown twice or lost.
/// </summary>
internal static class TaskFollower
{
    private const int MaxReconnects = 10;

    public static async Task<JsonNode> FollowAsync(PlatformClient api, Guid guid, Action<JsonNode> onLine, CancellationToken ct)
    {
        long after = 0;
        for (var reconnects = 0; ; reconnects++)
        {
            try
            {
                using var response = await api.OpenStreamAsync($"/v3/tasks/{guid}/logs?follow=true&after={after}", ct);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
                string? name = null;
                var data = new StringBuilder();
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.Length > 0)
                    {
                        if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
                        else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Append(line[5..].TrimStart());
                        continue;
                    }
                    // A blank line ends an event.
                    if (data.Length > 0)
                    {
                        var payload = JsonNode.Parse(data.ToString())!;
                        if (name == "end") return payload;
                        if (name == "log")
                        {
                            onLine(payload);
                            after = Math.Max(after, payload["sequence"]!.GetValue<long>());
                        }
                    }
                    name = null;
                    data.Clear();
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException && !ct.IsCancellationRequested)
            {
                // The connection dropped mid-stream; ask the task below.
            }

            // A deleted task answers 404 here (a refusal); any other task is followed again from the last line,
            // which also brings the end event if it ended meanwhile.
            var task = await api.GetAsync($"/v3/tasks/{guid}", ct);
            if (reconnects >= MaxReconnects)
                throw new CliFailure(ExitCodes.Unavailable, $"the task's log stream kept closing ({reconnects} times); the task is {task?["state"]}.");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }
}
