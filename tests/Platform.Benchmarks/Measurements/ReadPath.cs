using System.Diagnostics;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>
/// Measure 5: GET /v3/apps/{app}/tasks (first page, the default page size) with about a million events in
/// the store, one request at a time, as a user or a CI job lists tasks. The first requests warm up
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

    private async Task<double> GetAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        using var response = await platform.Http.GetAsync(path);
        await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        return clock.Elapsed.TotalMilliseconds;
    }
}
