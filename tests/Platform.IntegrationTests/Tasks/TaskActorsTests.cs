using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Platform.IntegrationTests.Jobs;

namespace Platform.IntegrationTests.Tasks;

/// <summary>
/// Who did it, on the events of a task's history (<c>by</c> in <c>GET /v3/tasks/{guid}/events</c>) for
/// what does not come from a plain POST of a task: a cancel through the Api, a Scheduler firing (and the
/// cancel its Replace policy makes). An outside publisher's RunTask: see AuthorisedPublishersTests.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class TaskActorsTests(PlatformFixture platform)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_cancel_through_the_api_records_the_caller_who_cancelled()
    {
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync("sleep 60", space: space);
        var id = await platform.RunTaskAsync(app);
        var (subject, token) = await platform.ServiceAccountAsync(space, "supporter");
        using var supporter = platform.Client(token);
        (await supporter.PostAsync($"/v3/tasks/{id}/actions/cancel", null)).EnsureSuccessStatusCode();
        await platform.WaitForEndAsync(id);

        var events = await EventsAsync(id);
        Assert.Equal("service-account:admin (service_account)", By(events, "task_accepted"));
        Assert.Equal($"{subject} (service_account)", By(events, "task_cancel_requested"));
    }

    [Fact]
    public async Task A_fired_task_records_the_scheduler_and_its_job_and_a_replace_records_the_scheduler_as_who_cancelled()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "sleep 60", policy: "Replace");
        try
        {
            await platform.AddScheduleAsync(job, "*/3 * * * * *");
            var fired = await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "fired"), o => o.Count >= 2, Patience, "2 fired occurrences");
            await platform.SuspendAsync(job);
            var first = fired.MinBy(o => o.Time("occurrence_at"))!["task_guid"]!.GetValue<Guid>();
            var events = await platform.EventuallyAsync(() => EventsAsync(first),
                e => e.Any(x => x!["type"]!.GetValue<string>() == "task_cancel_requested"), Patience, "the first run replaced");

            Assert.Equal($"service:scheduler (schedule of job {job})", By(events, "task_accepted"));
            Assert.Equal($"service:scheduler (schedule of job {job})", By(events, "task_cancel_requested"));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Always_jobs_fired_together_in_one_transaction_each_record_their_own_job()
    {
        // Due in the same instants, Always jobs are fired in batches (one transaction, one session for several jobs).
        var app = await platform.RegisterAppAsync();
        var jobs = new List<string>();
        for (var i = 0; i < 3; i++) jobs.Add(await platform.CreateJobAsync(app, command: "true"));
        try
        {
            await Task.WhenAll(jobs.Select(job => platform.AddScheduleAsync(job, "*/2 * * * * *")));
            foreach (var job in jobs)
            {
                var fired = await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "fired"), o => o.Count >= 1, Patience, $"a fired occurrence of {job}");
                var events = await EventsAsync(fired[0]["task_guid"]!.GetValue<Guid>());
                Assert.Equal($"service:scheduler (schedule of job {job})", By(events, "task_accepted"));
            }
        }
        finally
        {
            foreach (var job in jobs) await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Deleting_an_app_records_who_deleted_it_on_the_cancel_of_its_running_task()
    {
        // An app's tasks go with it once ended; the cancel is seen on the stream while the task, ignoring
        // SIGTERM, runs out its grace period (10 s), which the force delete waits for.
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync("trap '' TERM; while true; do sleep 1; done", space: space);
        var id = await platform.RunTaskAsync(app);
        await platform.EventuallyAsync(() => platform.GetTaskAsync(id), t => t.State() == "RUNNING", Patience, "the task running");
        var (subject, token) = await platform.ServiceAccountAsync(space, "developer");
        using var developer = platform.Client(token);
        var deleting = developer.DeleteAsync($"/v3/apps/{app}?force=true");

        var events = await platform.EventuallyAsync(() => EventsAsync(id),
            e => e.Any(x => x!["type"]!.GetValue<string>() == "task_cancel_requested"), Patience, "the cancel recorded");
        Assert.Equal($"{subject} (service_account)", By(events, "task_cancel_requested"));
        (await deleting).EnsureSuccessStatusCode();
    }

    private async Task<JsonArray> EventsAsync(Guid id) =>
        JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/tasks/{id}/events"))!["resources"]!.AsArray();

    private static string? By(JsonArray events, string type) =>
        events.Single(e => e!["type"]!.GetValue<string>() == type)!["by"]?.GetValue<string>();
}
