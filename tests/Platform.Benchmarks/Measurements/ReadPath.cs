using System.Diagnostics;
using System.Text.Json.Nodes;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>
/// Measure 5: GET /v3/apps/{app}/tasks (first page, the default page size) with about a million events in
/// the store (the scaling row: ten million), one request at a time, as a user or a CI job lists tasks. The first requests warm up
/// connections and plans and are not counted.
/// </summary>
public sealed class ReadPath(PlatformClient platform)
{
    public Task<Distribution> MeasureAsync(string app, int requests) => MeasurePathAsync($"/v3/apps/{app}/tasks", requests);

    /// <summary>Any GET, the same way (for telling the list's own cost from a request's).</summary>
    public async Task<Distribution> MeasurePathAsync(string path, int requests)
    {
        // A long-running Api answers from optimised code: the .NET runtime recompiles a method after about
        // thirty calls, in the background, so a handful of warm-up requests would measure the first compile.
        for (var i = 0; i < 200; i++) await GetAsync(path);
        var samples = new List<double>();
        for (var i = 0; i < requests; i++) samples.Add(await GetAsync(path));
        return new Distribution(samples);
    }

    /// <summary>
    /// Whether the Api reads the app's tasks (seeded copies among them) as real tasks: the list's total is the
    /// store's count, its first page holds the newest sequence ids in order, every task on it has ended, and
    /// the newest one's events come back through the Api. Null when all holds; otherwise what did not.
    /// </summary>
    public async Task<string?> CheckListAsync(string app)
    {
        var page = JsonNode.Parse(await platform.Http.GetStringAsync($"/v3/apps/{app}/tasks"))!;
        var stored = await platform.ScalarAsync($"select count(*) from {{schema}}.mt_doc_apptask where app = '{app}'");
        var newest = await platform.ScalarAsync($"select max((data ->> 'SequenceId')::bigint) from {{schema}}.mt_doc_apptask where app = '{app}'");
        var total = page["pagination"]?["total_results"]?.GetValue<long>();
        if (total != stored) return $"the list's total_results is {total}, the store holds {stored:N0} tasks of {app}";
        var resources = page["resources"]!.AsArray();
        if (resources.Count != Math.Min(50, stored)) return $"the first page holds {resources.Count} tasks";
        var sequence = resources.Select(r => r!["sequence_id"]!.GetValue<long>()).ToList();
        if (sequence[0] != newest || sequence.Zip(sequence.Skip(1)).Any(p => p.First <= p.Second))
            return $"the first page's sequence ids are not the newest in order: {string.Join(", ", sequence.Take(5))}... (newest stored: {newest})";
        if (resources.FirstOrDefault(r => r!["state"]?.ToString() is not ("SUCCEEDED" or "FAILED")) is { } unfinished)
            return $"a task on the page is {unfinished["state"]}";
        var guid = resources[0]!["guid"]!.ToString();
        var events = JsonNode.Parse(await platform.Http.GetStringAsync($"/v3/tasks/{guid}/events"))!["resources"]!.AsArray().Count;
        var storedEvents = await platform.ScalarAsync($"select count(*) from {{schema}}.mt_events where stream_id = '{guid}'");
        return events > 0 && events == storedEvents ? null : $"GET /v3/tasks/{guid}/events returned {events} events, the store holds {storedEvents}";
    }

    private async Task<double> GetAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        using var response = await platform.Http.GetAsync(path);
        await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        return clock.Elapsed.TotalMilliseconds;
    }
}
