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
    public async Task<Distribution> MeasureAsync(string app, int requests)
    {
        for (var i = 0; i < 10; i++) await ListAsync(app);
        var samples = new List<double>();
        for (var i = 0; i < requests; i++) samples.Add(await ListAsync(app));
        return new Distribution(samples);
    }

    private async Task<double> ListAsync(string app)
    {
        var clock = Stopwatch.StartNew();
        using var response = await platform.Http.GetAsync($"/v3/apps/{app}/tasks");
        await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        return clock.Elapsed.TotalMilliseconds;
    }
}
