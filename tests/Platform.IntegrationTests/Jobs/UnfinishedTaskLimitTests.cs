using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Jobs;

/// <summary>
/// A scheduled occurrence is held to the same unfinished-task limits as a task created through the Api
/// (Access:Limits): past them it is recorded SKIPPED, naming the limit, and no task is created.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class UnfinishedTaskLimitTests(PlatformFixture platform)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_occurrence_of_an_app_at_its_unfinished_task_limit_is_skipped_naming_the_limit_and_creates_no_task()
    {
        // The fixture's Schedulers are replaced for this test by one whose limit is two unfinished tasks per app.
        await platform.StopAllAsync("Scheduler");
        var scheduler = await platform.StartAsync("Scheduler", ("Scheduler__Name", "scheduler-limited"), ("Access__Limits__MaxUnfinishedTasksPerApp", "2"));
        var app = await platform.RegisterAppAsync("sleep 120");
        var blockers = new[] { await platform.RunTaskAsync(app), await platform.RunTaskAsync(app) };
        var job = await platform.CreateJobAsync(app, command: "true");
        try
        {
            await platform.AddScheduleAsync(job, "* * * * * *");
            var skipped = await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "skipped"), o => o.Count >= 3, Patience, "3 skipped occurrences");

            Assert.All(skipped, o => Assert.Equal(
                $"skipped: App '{app}' already has 2 unfinished tasks: the limit per app (Access:Limits:MaxUnfinishedTasksPerApp) is 2.",
                o["reason"]!.GetValue<string>()));
            Assert.Empty(await platform.OccurrencesAsync(job, "fired"));
            Assert.Empty(await platform.JobTasksAsync(job));
            var appTasks = JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/tasks"))!;
            Assert.Equal(2, appTasks["pagination"]!["total_results"]!.GetValue<int>());

            // Below the limit again, the next occurrence fires: the skips were the limit's doing.
            foreach (var blocker in blockers) (await platform.Api.PostAsync($"/v3/tasks/{blocker}/actions/cancel", null)).EnsureSuccessStatusCode();
            foreach (var blocker in blockers) await platform.WaitForEndAsync(blocker);
            var fired = await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "fired"), o => o.Count >= 1, Patience, "a fired occurrence");
            Assert.True(fired.Min(o => o.Time("occurrence_at")) > skipped.Max(o => o.Time("occurrence_at")));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
            await platform.StopAsync(scheduler);
            await platform.StartAsync("Scheduler", ("Scheduler__Name", PlatformFixture.SchedulerA));
            await platform.StartAsync("Scheduler", ("Scheduler__Name", PlatformFixture.SchedulerB));
        }
    }
}
