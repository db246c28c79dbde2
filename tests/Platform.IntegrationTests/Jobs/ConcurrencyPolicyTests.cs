using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Jobs;

/// <summary>What an occurrence does while an earlier task of its job is still running: Always, Forbid, Replace.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ConcurrencyPolicyTests(PlatformFixture platform)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Always_starts_a_run_on_schedule_while_the_previous_one_is_still_running()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "sleep 5");
        try
        {
            await platform.AddScheduleAsync(job, "*/2 * * * * *");
            await platform.EventuallyAsync(() => platform.JobTasksAsync(job), t => t.Count(task => task.State() == "RUNNING") >= 2, Patience,
                "two runs of the job running at once");
            await platform.SuspendAsync(job);

            Assert.Empty(await platform.OccurrencesAsync(job, "skipped"));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Forbid_skips_an_occurrence_while_the_previous_run_is_unfinished_and_records_the_skip()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "sleep 3", policy: "Forbid");
        try
        {
            await platform.AddScheduleAsync(job, "*/2 * * * * *");
            await platform.EventuallyAsync(() => platform.JobTasksAsync(job), t => t.Count >= 3, Patience, "three runs");
            await platform.SuspendAsync(job);
            var tasks = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
                t => t.All(task => task.State() is "SUCCEEDED" or "FAILED"), Patience, "every run ending");

            var skipped = await platform.OccurrencesAsync(job, "skipped");
            Assert.NotEmpty(skipped);
            Assert.All(skipped, s => Assert.Contains("Forbid", s["reason"]!.GetValue<string>()));
            Assert.All(skipped, s => Assert.Null(s["task_guid"]));
            // Never two at once: each run was created only after the one before it had ended.
            var oldestFirst = tasks.OrderBy(t => t.Time("created_at")).ToList();
            foreach (var (earlier, later) in oldestFirst.Zip(oldestFirst.Skip(1)))
                Assert.True(earlier.Time("updated_at") <= later.Time("created_at"), $"{later.ToJsonString()} started while {earlier.ToJsonString()} ran");
            // A skipped occurrence has no task; a fired one has exactly one.
            var taskTimes = tasks.Select(t => t.OccurrenceAt()).ToHashSet();
            Assert.All(skipped, s => Assert.DoesNotContain(s.Time("occurrence_at"), taskTimes));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Forbid_schedules_due_in_the_same_instant_on_two_schedulers_start_one_task()
    {
        // Eight schedules of one Forbid job, all due at the same instants: each of the fixture's two
        // Schedulers fires them side by side, one transaction each, so sixteen firings race for the first
        // instant. Only one may start a task; every other occurrence, then and after, is skipped.
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "sleep 120", policy: "Forbid");
        const int schedules = 8;
        try
        {
            // Suspended while the schedules are added, so that every one is due from the same instant (the resume).
            await platform.SuspendAsync(job);
            for (var i = 0; i < schedules; i++) await platform.AddScheduleAsync(job, "*/2 * * * * *");
            await platform.ResumeAsync(job);
            await platform.EventuallyAsync(() => platform.OccurrencesAsync(job), o => o.Count >= 3 * schedules, Patience, "three instants' occurrences");
            await platform.SuspendAsync(job);

            var occurrences = await platform.OccurrencesAsync(job);
            var fired = occurrences.Where(o => o["outcome"]!.GetValue<string>() == "FIRED").ToList();
            var tasks = await platform.JobTasksAsync(job);
            Assert.True(fired.Count == 1, "one occurrence fired, not " + string.Join(", ", fired.Select(o => o.ToJsonString())));
            Assert.Equal(fired[0]["task_guid"]!.GetValue<Guid>(), Assert.Single(tasks)["guid"]!.GetValue<Guid>());
            var skipped = occurrences.Where(o => o["outcome"]!.GetValue<string>() == "SKIPPED").ToList();
            Assert.True(skipped.Count >= 2 * schedules, $"{skipped.Count} skipped");
            Assert.All(skipped, s => Assert.Contains("Forbid", s["reason"]!.GetValue<string>()));
            // The fired one is of the first instant: the race was there, not after the task was visible.
            Assert.Equal(occurrences.Min(o => o.Time("occurrence_at")), fired[0].Time("occurrence_at"));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Replace_terminates_the_running_run_and_then_starts_the_new_one()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "echo started; sleep 60", policy: "Replace");
        try
        {
            await platform.AddScheduleAsync(job, "*/3 * * * * *");
            var tasks = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
                t => t.Count(task => task.State() == "FAILED") >= 2, Patience, "two runs replaced");
            await platform.SuspendAsync(job);

            var replaced = tasks.Where(t => t.State() == "FAILED").ToList();
            Assert.All(replaced, t => Assert.Contains("replaced by the run of job", t["result"]!["failure_reason"]!.GetValue<string>()));
            // Each replaced run was ended because of the next occurrence: a newer run of the job exists for each.
            var newest = tasks.Max(t => t.OccurrenceAt());
            Assert.All(replaced, t => Assert.True(t.OccurrenceAt() < newest));
            Assert.Empty(await platform.OccurrencesAsync(job, "skipped"));
            // At no point do two runs stay running: once the replacements settle, at most one is unfinished.
            var settled = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
                t => t.Count(task => task.State() is "RUNNING" or "PENDING" or "CANCELING") <= 1, Patience, "one run left");
            Assert.True(settled.Count(t => t.State() is "RUNNING" or "PENDING" or "CANCELING") <= 1);
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }
}
