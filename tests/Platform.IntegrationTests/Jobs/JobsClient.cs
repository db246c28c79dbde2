using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Jobs;

/// <summary>The jobs API as the tests drive it; each call fails with the response body when it is not the expected status.</summary>
internal static class JobsClient
{
    public static async Task<string> CreateJobAsync(
        this PlatformFixture platform, string app, string command = "true", string? policy = null, int? startingDeadlineSeconds = null)
    {
        var name = "job-" + Guid.NewGuid().ToString("N")[..10];
        var body = new Dictionary<string, object?>
        {
            ["name"] = name, ["command"] = command, ["concurrency_policy"] = policy, ["starting_deadline_seconds"] = startingDeadlineSeconds,
        };
        await ExpectAsync(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", body), 201);
        return name;
    }

    public static async Task<Guid> AddScheduleAsync(this PlatformFixture platform, string job, string cron, string? timeZone = null)
    {
        var response = await platform.Api.PostAsJsonAsync($"/v3/jobs/{job}/schedules", new { cron, time_zone = timeZone });
        return (await ExpectAsync(response, 201))["guid"]!.GetValue<Guid>();
    }

    /// <summary>The job's tasks, newest first.</summary>
    public static async Task<List<JsonNode>> JobTasksAsync(this PlatformFixture platform, string job) =>
        (await ExpectAsync(await platform.Api.GetAsync($"/v3/jobs/{job}/tasks?per_page=5000"), 200))["resources"]!.AsArray().Select(t => t!).ToList();

    /// <summary>What became of the job's occurrences, newest first; <paramref name="outcome"/> filters (fired, skipped, missed).</summary>
    public static async Task<List<JsonNode>> OccurrencesAsync(this PlatformFixture platform, string job, string? outcome = null) =>
        (await ExpectAsync(await platform.Api.GetAsync($"/v3/jobs/{job}/occurrences?per_page=5000{(outcome is null ? "" : $"&outcome={outcome}")}"), 200))
            ["resources"]!.AsArray().Select(o => o!).ToList();

    public static async Task SuspendAsync(this PlatformFixture platform, string job) =>
        await ExpectAsync(await platform.Api.PostAsync($"/v3/jobs/{job}/actions/suspend", null), 200);

    public static async Task ResumeAsync(this PlatformFixture platform, string job) =>
        await ExpectAsync(await platform.Api.PostAsync($"/v3/jobs/{job}/actions/resume", null), 200);

    public static async Task DeleteJobAsync(this PlatformFixture platform, string job)
    {
        var response = await platform.Api.DeleteAsync($"/v3/jobs/{job}");
        if ((int)response.StatusCode is not (204 or 404))
            throw new InvalidOperationException($"delete job {job}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with the last value and the service logs when it never does.</summary>
    public static async Task<T> EventuallyAsync<T>(this PlatformFixture platform, Func<Task<T>> read, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T value;
        do
        {
            value = await read();
            if (condition(value)) return value;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"{what} did not happen within {timeout}; last seen: {Describe(value)}\n{platform.DescribeServices()}");
    }

    public static DateTimeOffset Time(this JsonNode node, string field) => node[field]!.GetValue<DateTimeOffset>();

    public static DateTimeOffset? OccurrenceAt(this JsonNode task) => task["job"]?["occurrence_at"]?.GetValue<DateTimeOffset>();

    public static string State(this JsonNode task) => task["state"]!.GetValue<string>();

    public static async Task<JsonNode> ExpectAsync(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != status)
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {status}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private static string Describe<T>(T value) => value switch
    {
        IEnumerable<JsonNode> nodes => "[" + string.Join(", ", nodes.Select(n => n.ToJsonString())) + "]",
        _ => value?.ToString() ?? "null",
    };
}
