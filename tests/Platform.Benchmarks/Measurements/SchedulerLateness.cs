using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>What a lateness run found: lateness per occurrence in the window, or why it could not run.</summary>
public sealed record LatenessResult(Distribution? LatenessMs, int Expected, string Detail);

/// <summary>
/// Measure 3 (Platform): 1,000 jobs, each with one cron schedule (<see cref="CronPlan"/>), and the delay from
/// each occurrence's time to the task being accepted (the task's created time, written in the same
/// transaction as the RunTask publish is decided). Needs the Scheduler's API (issue 4):
/// <c>POST /v3/apps/{app}/jobs</c> and <c>POST /v3/jobs/{job}/schedules</c>; where this commit does not
/// have it, it says so instead of measuring.
/// </summary>
public sealed class SchedulerLateness(PlatformClient platform)
{
    public async Task<LatenessResult> MeasureAsync(CronPlan plan)
    {
        const string app = "bench-scheduled";
        await platform.RegisterAppAsync(app, "true");
        var first = await CreateJobAsync(app, 0, plan);
        if (first.Missing is { } missing) return new LatenessResult(null, 0, missing);

        using var gate = new SemaphoreSlim(8);
        var jobs = await Task.WhenAll(Enumerable.Range(1, plan.Schedules - 1).Select(async i =>
        {
            await gate.WaitAsync();
            try { return await CreateJobAsync(app, i, plan); } finally { gate.Release(); }
        }));
        if (jobs.FirstOrDefault(j => j.Missing is not null) is { Missing: { } failed }) return new LatenessResult(null, 0, failed);

        var (from, to) = CronPlan.Window(TimeSpan.FromSeconds(5));
        Console.WriteLine($"  {plan.Schedules} schedules registered; measuring occurrences in [{from:HH:mm:ss}, {to:HH:mm:ss})");
        await Task.Delay(to - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10));

        // The occurrence a task was made for is on the task's read model; its exact property name is the
        // Scheduler's choice, so any property whose name says "occurrence" is taken.
        await using var command = platform.Database.CreateCommand(
            """
            select (t.data ->> 'CreatedAt')::timestamptz, o.value::timestamptz
            from platform.mt_doc_apptask t
            cross join lateral (select value from jsonb_each_text(t.data) where key ilike '%occurrence%' limit 1) o
            where t.data ->> 'App' = $1 and o.value::timestamptz >= $2 and o.value::timestamptz < $3
            """);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = app });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = from });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = to });
        var lateness = new List<double>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                lateness.Add((reader.GetFieldValue<DateTimeOffset>(0) - reader.GetFieldValue<DateTimeOffset>(1)).TotalMilliseconds);
        if (lateness.Count == 0)
            return new LatenessResult(null, plan.Schedules, "not measured: no task of the window records its occurrence (no read-model property named like 'occurrence')");
        return new LatenessResult(new Distribution(lateness), plan.Schedules,
            $"{lateness.Count} of {plan.Schedules} occurrences in the window became tasks");
    }

    private sealed record CreatedJob(string? Id, string? Missing);

    private async Task<CreatedJob> CreateJobAsync(string app, int i, CronPlan plan)
    {
        var job = await PostAsync($"/v3/apps/{app}/jobs", new { name = $"job-{i:D4}", command = "true", concurrency_policy = "Allow" });
        if (job.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            return new CreatedJob(null, "not measured: the Scheduler on this commit does not provide jobs (POST /v3/apps/{app}/jobs → " + (int)job.Status + ")");
        if (job.Status != HttpStatusCode.Created) return new CreatedJob(null, $"not measured: POST /v3/apps/{app}/jobs → {(int)job.Status} {job.Body}");
        var id = job.Json?["guid"]?.ToString() ?? job.Json?["name"]?.ToString();
        var schedule = await PostAsync($"/v3/jobs/{id}/schedules", new { cron = plan.Cron(i), time_zone = "UTC" });
        if (schedule.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            return new CreatedJob(null, "not measured: the Scheduler on this commit does not provide schedules (POST /v3/jobs/{job}/schedules → " + (int)schedule.Status + ")");
        if (schedule.Status != HttpStatusCode.Created) return new CreatedJob(null, $"not measured: POST /v3/jobs/{id}/schedules → {(int)schedule.Status} {schedule.Body}");
        return new CreatedJob(id, null);
    }

    private async Task<(HttpStatusCode Status, string Body, JsonNode? Json)> PostAsync(string path, object body)
    {
        using var response = await platform.Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        try { json = text.Length > 0 ? JsonNode.Parse(text) : null; } catch (System.Text.Json.JsonException) { }
        return (response.StatusCode, text, json);
    }
}
