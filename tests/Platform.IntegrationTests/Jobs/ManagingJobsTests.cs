using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Platform.IntegrationTests.Tasks;

namespace Platform.IntegrationTests.Jobs;

[Collection(PlatformCollection.Name)]
public sealed class ManagingJobsTests(PlatformFixture platform)
{
    [Fact]
    public async Task A_job_is_created_listed_shown_changed_and_deleted()
    {
        var app = await platform.RegisterAppAsync(command: "echo from app");
        var other = await platform.RegisterAppAsync();
        var name = "job-" + Guid.NewGuid().ToString("N")[..10];

        var created = await JobsClient.ExpectAsync(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new
        {
            name, command = "echo report", memory_in_mb = 128, disk_in_mb = 512, concurrency_policy = "forbid",
        }), 201);
        await JobsClient.ExpectAsync(await platform.Api.PostAsJsonAsync($"/v3/apps/{other}/jobs", new { name = name + "-b" }), 201);

        Assert.Equal(name, created["name"]!.GetValue<string>());
        Assert.Equal("echo report", created["command"]!.GetValue<string>());
        Assert.Equal(128, created["memory_in_mb"]!.GetValue<int>());
        Assert.Equal(512, created["disk_in_mb"]!.GetValue<int>());
        Assert.Equal("Forbid", created["concurrency_policy"]!.GetValue<string>());
        Assert.Equal("ACTIVE", created["state"]!.GetValue<string>());
        Assert.Equal(app, created["relationships"]!["app"]!["data"]!["name"]!.GetValue<string>());

        var forApp = await JobsClient.ExpectAsync(await platform.Api.GetAsync($"/v3/apps/{app}/jobs"), 200);
        Assert.Equal([name], forApp["resources"]!.AsArray().Select(j => j!["name"]!.GetValue<string>()));
        var all = await JobsClient.ExpectAsync(await platform.Api.GetAsync("/v3/jobs?per_page=5000"), 200);
        Assert.Contains(name, all["resources"]!.AsArray().Select(j => j!["name"]!.GetValue<string>()));
        Assert.Contains(name + "-b", all["resources"]!.AsArray().Select(j => j!["name"]!.GetValue<string>()));

        var changed = await JobsClient.ExpectAsync(await platform.Api.PatchAsJsonAsync($"/v3/jobs/{name}", new { command = "echo changed", concurrency_policy = "Replace" }), 200);
        Assert.Equal("echo changed", changed["command"]!.GetValue<string>());
        Assert.Equal("Replace", changed["concurrency_policy"]!.GetValue<string>());
        Assert.Equal(128, changed["memory_in_mb"]!.GetValue<int>());
        var shown = await JobsClient.ExpectAsync(await platform.Api.GetAsync($"/v3/jobs/{name}"), 200);
        Assert.Equal("echo changed", shown["command"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await platform.Api.DeleteAsync($"/v3/jobs/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/jobs/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.DeleteAsync($"/v3/jobs/{name}")).StatusCode);
        await platform.DeleteJobAsync(name + "-b");
    }

    [Fact]
    public async Task Bad_job_requests_get_a_problem_naming_the_field()
    {
        var app = await platform.RegisterAppAsync(command: "");
        var job = await platform.CreateJobAsync(app, command: "true");
        try
        {
            await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = "Bad Name", command = "true" }), HttpStatusCode.UnprocessableEntity, "name");
            await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = "no-command" }), HttpStatusCode.UnprocessableEntity, "command");
            await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = "x1", command = "true", memory_in_mb = 0 }), HttpStatusCode.UnprocessableEntity, "memory_in_mb");
            await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = "x2", command = "true", concurrency_policy = "Sometimes" }), HttpStatusCode.UnprocessableEntity, "concurrency_policy");
            await RunningTasksTests.AssertProblem(await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = "x3", command = "true", starting_deadline_seconds = 0 }), HttpStatusCode.UnprocessableEntity, "starting_deadline_seconds");
            await RunningTasksTests.AssertProblem(await platform.Api.PatchAsJsonAsync($"/v3/jobs/{job}", new { disk_in_mb = -5 }), HttpStatusCode.UnprocessableEntity, "disk_in_mb");

            var duplicate = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/jobs", new { name = job, command = "true" });
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.PostAsJsonAsync("/v3/apps/no-such-app/jobs", new { name = "x4", command = "true" })).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync("/v3/jobs/no-such-job")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.PostAsync("/v3/jobs/no-such-job/actions/run", null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.PostAsJsonAsync("/v3/jobs/no-such-job/schedules", new { cron = "* * * * *" })).StatusCode);
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task An_invalid_cron_or_unknown_time_zone_is_a_422_that_quotes_the_bad_part()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app);
        try
        {
            var badCron = await platform.Api.PostAsJsonAsync($"/v3/jobs/{job}/schedules", new { cron = "61 * * * *" });
            var badZone = await platform.Api.PostAsJsonAsync($"/v3/jobs/{job}/schedules", new { cron = "0 * * * *", time_zone = "Europe/Atlantis" });

            await RunningTasksTests.AssertProblem(badCron, HttpStatusCode.UnprocessableEntity, "cron");
            Assert.Contains("'61 * * * *'", await badCron.Content.ReadAsStringAsync());
            await RunningTasksTests.AssertProblem(badZone, HttpStatusCode.UnprocessableEntity, "time_zone");
            Assert.Contains("'Europe/Atlantis'", await badZone.Content.ReadAsStringAsync());
            var schedules = await JobsClient.ExpectAsync(await platform.Api.GetAsync($"/v3/jobs/{job}/schedules"), 200);
            Assert.Empty(schedules["resources"]!.AsArray());
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task A_job_has_several_schedules_that_can_be_listed_and_removed_and_survive_suspend_and_resume()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app);
        try
        {
            var daily = await platform.AddScheduleAsync(job, "30 2 * * *", "Europe/Berlin");
            var everyMinute = await platform.AddScheduleAsync(job, "0 * * * * *");

            var suspended = await JobsClient.ExpectAsync(await platform.Api.PostAsync($"/v3/jobs/{job}/actions/suspend", null), 200);
            Assert.Equal("SUSPENDED", suspended["state"]!.GetValue<string>());
            var resumed = await JobsClient.ExpectAsync(await platform.Api.PostAsync($"/v3/jobs/{job}/actions/resume", null), 200);
            Assert.Equal("ACTIVE", resumed["state"]!.GetValue<string>());

            var schedules = (await JobsClient.ExpectAsync(await platform.Api.GetAsync($"/v3/jobs/{job}/schedules"), 200))["resources"]!.AsArray();
            Assert.Equal([daily, everyMinute], schedules.Select(s => s!["guid"]!.GetValue<Guid>()));
            Assert.Equal("Europe/Berlin", schedules[0]!["time_zone"]!.GetValue<string>());
            Assert.Equal("UTC", schedules[1]!["time_zone"]!.GetValue<string>());
            var next = schedules[0]!.Time("next_occurrence_at");
            Assert.Equal(new TimeSpan(2, 30, 0), TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).TimeOfDay);

            Assert.Equal(HttpStatusCode.NoContent, (await platform.Api.DeleteAsync($"/v3/jobs/{job}/schedules/{everyMinute}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.DeleteAsync($"/v3/jobs/{job}/schedules/{everyMinute}")).StatusCode);
            var left = (await JobsClient.ExpectAsync(await platform.Api.GetAsync($"/v3/jobs/{job}/schedules"), 200))["resources"]!.AsArray();
            Assert.Equal([daily], left.Select(s => s!["guid"]!.GetValue<Guid>()));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Running_a_job_now_creates_a_normal_task_recorded_in_the_jobs_history_newest_first()
    {
        var app = await platform.RegisterAppAsync(command: "echo from app");
        var job = await platform.CreateJobAsync(app, command: "echo \"hello from $PLATFORM_TASK_NAME\"");
        try
        {
            var first = await JobsClient.ExpectAsync(await platform.Api.PostAsync($"/v3/jobs/{job}/actions/run", null), 202);
            var second = await JobsClient.ExpectAsync(await platform.Api.PostAsync($"/v3/jobs/{job}/actions/run", null), 202);
            var firstId = first["guid"]!.GetValue<Guid>();
            var secondId = second["guid"]!.GetValue<Guid>();
            await platform.WaitForEndAsync(firstId);
            await platform.WaitForEndAsync(secondId);

            var history = await platform.JobTasksAsync(job);
            Assert.Equal([secondId, firstId], history.Select(t => t["guid"]!.GetValue<Guid>()));
            Assert.All(history, t => Assert.Equal("SUCCEEDED", t.State()));
            Assert.All(history, t => Assert.Equal(job, t["job"]!["name"]!.GetValue<string>()));
            Assert.All(history, t => Assert.Null(t.OccurrenceAt()));
            Assert.All(history, t => Assert.Null(t["job"]!["schedule_guid"]));
            Assert.Equal($"hello from {job}", (await platform.GetLogsAsync(firstId)).Single()!["line"]!.GetValue<string>());
            // A job's task is also an ordinary task of its app.
            var appTasks = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/tasks"))!["resources"]!.AsArray();
            Assert.Equal([secondId, firstId], appTasks.Select(t => t!["guid"]!.GetValue<Guid>()));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }
}
