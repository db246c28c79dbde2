using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Benchmarks.Infrastructure;

namespace Platform.Benchmarks.Measurements;

/// <summary>What a lateness run found: lateness per occurrence in the window, or why it could not run.</summary>
public sealed record LatenessResult(Distribution? LatenessMs, int Expected, string Detail);

/// <summary>
/// Measure 3 (Platform): 1,000 jobs, each with one cron schedule (<see cref="CronPlan"/>), and the delay from
/// each occurrence's time to its RunTask's publish: its first arrival at two queues of the benchmark's own
/// bound to the RunTask exchange, each consumed on a connection of its own (<see cref="RunTaskTap"/>). Each
/// arrival is a bound on when the broker had the RunTask; under the run's load one consumer's delivery lagged
/// the other's by up to 180 ms (docs/benchmarks.md), so the earlier bound is taken. The occurrence of each task
/// is read from its read model.
/// A second, larger plan on the same instance adds only the jobs it lacks (the scaling row: the same firing
/// schedules, with the idle ones beside them).
/// </summary>
public sealed class SchedulerLateness(PlatformClient platform, BenchmarkServers servers)
{
    private const string App = "bench-scheduled";

    // How many firing and idle jobs this instance has made so far.
    private int _firing, _idle;

    public async Task<LatenessResult> MeasureAsync(CronPlan plan)
    {
        var app = App;
        var registering = System.Diagnostics.Stopwatch.StartNew();
        if (_firing == 0)
        {
            await platform.RegisterAppAsync(app, "true");
            var first = await CreateJobAsync(app, $"job-{0:D4}", plan.Cron(0));
            if (first.Missing is { } missing) return new LatenessResult(null, 0, missing);
            _firing = 1;
        }

        var now = DateTimeOffset.UtcNow;
        using var gate = new SemaphoreSlim(8);
        var wanted = Enumerable.Range(_firing, Math.Max(0, plan.Schedules - _firing)).Select(i => ($"job-{i:D4}", plan.Cron(i)))
            .Concat(Enumerable.Range(_idle, Math.Max(0, plan.Idle - _idle)).Select(i => ($"idle-{i:D5}", CronPlan.IdleCron(i, now))));
        var jobs = await Task.WhenAll(wanted.Select(async job =>
        {
            await gate.WaitAsync();
            try { return await CreateJobAsync(app, job.Item1, job.Item2); } finally { gate.Release(); }
        }));
        if (jobs.FirstOrDefault(j => j.Missing is not null) is { Missing: { } failed }) return new LatenessResult(null, 0, failed);
        (_firing, _idle) = (Math.Max(_firing, plan.Schedules), Math.Max(_idle, plan.Idle));
        var registered = $"{jobs.Length:N0} jobs with a schedule each made through the Api in {registering.Elapsed.TotalSeconds:0} s";

        await using var tap = await RunTaskTap.StartAsync(servers);
        await using var second = await RunTaskTap.StartAsync(servers);
        var (from, to) = CronPlan.Window(TimeSpan.FromSeconds(5));
        Console.WriteLine($"  {plan.Total} schedules registered ({plan.Idle} idle); measuring occurrences in [{from:HH:mm:ss}, {to:HH:mm:ss})");
        await Task.Delay(from - DateTimeOffset.UtcNow);
        var cpuBefore = CpuProfile.Take();
        await Task.Delay(to - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10));
        var cpu = CpuProfile.Take().DescribeSince(cpuBefore, plan.Schedules).Replace("per task", "per occurrence (its task's run included)");

        await using var command = platform.Database.CreateCommand(
            """
            select t.id, (t.data ->> 'OccurrenceAt')::timestamptz from platform.mt_doc_apptask t
            where t.app = $1 and (t.data ->> 'OccurrenceAt')::timestamptz >= $2 and (t.data ->> 'OccurrenceAt')::timestamptz < $3
            """);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = app });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = from });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = to });
        var lateness = new List<double>();
        List<double> burst = [], spread = [];
        // Where the burst's lateness arose: up to the publish's start (the Scheduler's clock), and from there to arrival here.
        List<double> burstToPublish = [], burstPublishToArrival = [], spreadToPublish = [], spreadPublishToArrival = [];
        var unseen = 0;
        var tapsApart = new List<double>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
            {
                var taskId = reader.GetGuid(0);
                var occurrence = reader.GetFieldValue<DateTimeOffset>(1);
                if (RunTaskTap.FirstArrival(taskId, tap, second) is { } published)
                {
                    if (tap.Arrivals.TryGetValue(taskId, out var one) && second.Arrivals.TryGetValue(taskId, out var other))
                        tapsApart.Add(Math.Abs((one - other).TotalMilliseconds));
                    var late = (published - occurrence).TotalMilliseconds;
                    lateness.Add(late);
                    var inBurst = occurrence.Second % CronPlan.PeriodSeconds == CronPlan.BurstSecond;
                    (inBurst ? burst : spread).Add(late);
                    if (tap.SentTimes.TryGetValue(taskId, out var sent) || second.SentTimes.TryGetValue(taskId, out sent))
                    {
                        (inBurst ? burstToPublish : spreadToPublish).Add((sent - occurrence).TotalMilliseconds);
                        (inBurst ? burstPublishToArrival : spreadPublishToArrival).Add((published - sent).TotalMilliseconds);
                    }
                }
                else unseen++;
            }
        if (lateness.Count == 0) return new LatenessResult(null, plan.Schedules, "not measured: no task of the window was seen published");
        return new LatenessResult(new Distribution(lateness), plan.Schedules,
            $"{plan.Total:N0} schedules ({plan.Idle:N0} of them idle; {registered}): "
            + $"{lateness.Count} of {plan.Schedules} occurrences in the window were published as RunTask" + (unseen > 0 ? $" ({unseen} more became tasks but were not seen on the exchange)" : "")
            + $"; {cpu}; lateness of the occurrences in the burst second: {new Distribution(burst)} ms, of the others: {new Distribution(spread)} ms"
            + $"; split at the publish's start (the envelope's sentTime, the Scheduler's clock, whole milliseconds): burst second up to it {new Distribution(burstToPublish)} ms, "
            + $"from it to arrival here {new Distribution(burstPublishToArrival)} ms; the others up to it {new Distribution(spreadToPublish)} ms, from it to arrival {new Distribution(spreadPublishToArrival)} ms"
            + $"; the two taps' arrivals of one RunTask apart by {new Distribution(tapsApart)} ms");
    }

    /// <summary>Waits until every task the jobs fired has ended (the Scheduler stopped first), or <paramref name="timeout"/> passed.</summary>
    public async Task WaitForFiredTasksAsync(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout && await platform.ScalarAsync(
                   $"select count(*) from {{schema}}.mt_doc_apptask where app = '{App}' and data ->> 'State' not in ('Succeeded', 'Failed')") > 0)
            await Task.Delay(500);
    }

    private sealed record CreatedJob(string? Id, string? Missing);

    private async Task<CreatedJob> CreateJobAsync(string app, string name, string cron)
    {
        var job = await PostAsync($"/v3/apps/{app}/jobs", new { name, command = "true", concurrency_policy = "Always" });
        if (job.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            return new CreatedJob(null, "not measured: the Scheduler on this commit does not provide jobs (POST /v3/apps/{app}/jobs → " + (int)job.Status + ")");
        if (job.Status != HttpStatusCode.Created) return new CreatedJob(null, $"not measured: POST /v3/apps/{app}/jobs → {(int)job.Status} {job.Body}");
        var id = job.Json?["guid"]?.ToString() ?? job.Json?["name"]?.ToString();
        var schedule = await PostAsync($"/v3/jobs/{id}/schedules", new { cron, time_zone = "UTC" });
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
