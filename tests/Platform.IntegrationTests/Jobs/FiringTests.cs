using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Jobs;

/// <summary>
/// When occurrences fire, on the real services: two Schedulers side by side (the fixture runs two), a
/// Scheduler stopped and restarted, and a Scheduler whose clock starts on a chosen day (a daylight-saving
/// change, months from now) instead of waiting for it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class FiringTests(PlatformFixture platform, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Two_schedulers_side_by_side_fire_each_occurrence_exactly_once_over_many_occurrences()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "true");
        try
        {
            await platform.AddScheduleAsync(job, "* * * * * *");
            await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "fired"), o => o.Count >= 15, Patience, "15 fired occurrences");
            await platform.SuspendAsync(job);
            var tasks = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
                t => t.All(task => task.State() is "SUCCEEDED" or "FAILED"), Patience, "every task ending");

            var occurrences = await platform.OccurrencesAsync(job);
            var fired = occurrences.Where(o => o["outcome"]!.GetValue<string>() == "FIRED").ToList();
            // One task per occurrence, and one task per fired occurrence, however the two schedulers raced.
            Assert.All(tasks.GroupBy(t => t.OccurrenceAt()), g => Assert.Single(g));
            Assert.Equal(fired.Select(o => o["task_guid"]!.GetValue<Guid>()).Order(), tasks.Select(t => t["guid"]!.GetValue<Guid>()).Order());
            Assert.All(tasks, t => Assert.Equal("SUCCEEDED", t.State()));
            // Every second from the first occurrence to the last was handled exactly once: fired, or recorded as missed.
            var times = occurrences.Select(o => o.Time("occurrence_at")).Order().ToList();
            Assert.Equal(times.Count, times.Distinct().Count());
            var expected = Enumerable.Range(0, (int)(times[^1] - times[0]).TotalSeconds + 1).Select(i => times[0].AddSeconds(i));
            Assert.Equal(expected, times);
            Assert.True(fired.Count >= 15);

            ReportLateness("two schedulers, 1 s schedule", fired);
            output.WriteLine("fired by: " + string.Join(", ", fired.GroupBy(o => o["scheduler"]!.GetValue<string>()).Select(g => $"{g.Key} {g.Count()}")));
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task An_Always_occurrence_is_written_ahead_of_its_time_and_its_task_starts_no_earlier()
    {
        // The Schedulers fire an Always job's occurrence Scheduler:FireAheadMilliseconds (1 s here, the default)
        // before its time; the RunTask, and so the task's process, must still wait for the time itself.
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "date +%s%N");
        try
        {
            await platform.AddScheduleAsync(job, "*/2 * * * * *");
            await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "fired"), o => o.Count >= 4, Patience, "4 fired occurrences");
            await platform.SuspendAsync(job);
            var tasks = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
                t => t.All(task => task.State() is "SUCCEEDED" or "FAILED"), Patience, "every task ending");

            // Written ahead (on a busy machine not every one need have been).
            var fired = await platform.OccurrencesAsync(job, "fired");
            Assert.Contains(fired, o => o.Time("recorded_at") < o.Time("occurrence_at"));
            Assert.Equal(fired.Count, tasks.Count);
            foreach (var task in tasks)
            {
                var occurrence = task.OccurrenceAt()!.Value;
                var guid = task["guid"]!.GetValue<Guid>();
                var line = (await platform.GetLogsAsync(guid)).First()!["line"]!.GetValue<string>();
                var started = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(line) / 1_000_000);
                Assert.True(started >= occurrence, $"task {guid} started at {started:O}, before its occurrence at {occurrence:O}");
                // Created as of its occurrence when fired ahead, later when the Scheduler was late; never before it.
                Assert.True(task.Time("created_at") >= occurrence, $"task {guid} created at {task.Time("created_at"):O}, before its occurrence");
            }
            ReportLateness("fired ahead (negative: recorded before the occurrence), 2 s schedule", fired);
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Many_schedules_due_in_the_same_second_fire_together_and_each_occurrence_exactly_once_on_two_schedulers()
    {
        // Thirty Always jobs due at the same instants: each Scheduler fires them in batches (one transaction
        // per batch), and the two Schedulers race for every batch.
        var app = await platform.RegisterAppAsync();
        var jobs = new List<string>();
        for (var i = 0; i < 30; i++) jobs.Add(await platform.CreateJobAsync(app, command: "true"));
        try
        {
            await Task.WhenAll(jobs.Select(job => platform.AddScheduleAsync(job, "*/2 * * * * *")));
            foreach (var job in jobs)
                await platform.EventuallyAsync(() => platform.OccurrencesAsync(job, "fired"), o => o.Count >= 3, Patience, $"3 fired occurrences of {job}");
            await Task.WhenAll(jobs.Select(job => platform.SuspendAsync(job)));

            var sequenceIds = new List<long>();
            foreach (var job in jobs)
            {
                var tasks = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
                    t => t.All(task => task.State() is "SUCCEEDED" or "FAILED"), Patience, $"every task of {job} ending");
                var occurrences = await platform.OccurrencesAsync(job);
                var fired = occurrences.Where(o => o["outcome"]!.GetValue<string>() == "FIRED").ToList();
                Assert.All(tasks.GroupBy(t => t.OccurrenceAt()), g => Assert.Single(g));
                Assert.Equal(fired.Select(o => o["task_guid"]!.GetValue<Guid>()).Order(), tasks.Select(t => t["guid"]!.GetValue<Guid>()).Order());
                Assert.All(tasks, t => Assert.Equal("SUCCEEDED", t.State()));
                // Every occurrence from the first to the last handled exactly once.
                var times = occurrences.Select(o => o.Time("occurrence_at")).Order().ToList();
                var expected = Enumerable.Range(0, (int)(times[^1] - times[0]).TotalSeconds / 2 + 1).Select(i => times[0].AddSeconds(2 * i));
                Assert.Equal(expected, times);
                sequenceIds.AddRange(tasks.Select(t => t["sequence_id"]!.GetValue<long>()));
            }
            // Ids reserved in ranges by two Schedulers never collide.
            Assert.Equal(sequenceIds.Count, sequenceIds.Distinct().Count());
        }
        finally
        {
            foreach (var job in jobs) await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task With_two_thousand_schedules_registered_each_occurrence_of_a_busy_schedule_still_fires_once()
    {
        var app = await platform.RegisterAppAsync();
        var idle = new List<string>();
        for (var i = 0; i < 20; i++) idle.Add(await platform.CreateJobAsync(app, command: "true"));
        var busy = await platform.CreateJobAsync(app, command: "true");
        try
        {
            // 2000 schedules that stay registered but do not fire during the test: daily, twelve hours from now.
            var quiet = DateTimeOffset.UtcNow.AddHours(12);
            using var gate = new SemaphoreSlim(8);
            await Task.WhenAll(Enumerable.Range(0, 2000).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    await platform.AddScheduleAsync(idle[i % idle.Count], $"{i % 60} {i / 60 % 60} {quiet.Hour} * * *");
                }
                finally
                {
                    gate.Release();
                }
            }));
            await platform.AddScheduleAsync(busy, "* * * * * *");
            await platform.EventuallyAsync(() => platform.OccurrencesAsync(busy, "fired"), o => o.Count >= 20, Patience, "20 fired occurrences");
            await platform.SuspendAsync(busy);

            var tasks = await platform.JobTasksAsync(busy);
            var fired = await platform.OccurrencesAsync(busy, "fired");
            Assert.All(tasks.GroupBy(t => t.OccurrenceAt()), g => Assert.Single(g));
            Assert.Equal(fired.Count, tasks.Count);
            foreach (var job in idle) Assert.Empty(await platform.OccurrencesAsync(job));
            ReportLateness("two schedulers, 2001 schedules registered, 1 s schedule", fired);
        }
        finally
        {
            foreach (var job in idle.Append(busy)) await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task A_scheduler_stopped_across_five_occurrences_runs_exactly_one_on_restart_and_records_four_missed()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "true");
        try
        {
            await platform.StopAllAsync("Scheduler");
            // Five occurrences two seconds apart, all within one minute, all while no scheduler runs; none after.
            var first = DateTimeOffset.UtcNow.AddSeconds(3);
            if (first.Second > 48) first = first.AddSeconds(60 - first.Second + 1);
            first = new DateTimeOffset(first.Year, first.Month, first.Day, first.Hour, first.Minute, first.Second, TimeSpan.Zero);
            var due = Enumerable.Range(0, 5).Select(i => first.AddSeconds(2 * i)).ToList();
            await platform.AddScheduleAsync(job, $"{string.Join(",", due.Select(d => d.Second))} {first.Minute} {first.Hour} {first.Day} {first.Month} *");
            var wait = due[^1] - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);

            await Task.WhenAll(
                platform.StartAsync("Scheduler", ("Scheduler__Name", PlatformFixture.SchedulerA)),
                platform.StartAsync("Scheduler", ("Scheduler__Name", PlatformFixture.SchedulerB)));
            var occurrences = await platform.EventuallyAsync(() => platform.OccurrencesAsync(job), o => o.Count >= 5, Patience, "five occurrences recorded");
            var task = await platform.WaitForEndAsync((await platform.JobTasksAsync(job)).Single()["guid"]!.GetValue<Guid>());

            Assert.Equal([due[^1]], occurrences.Where(o => o["outcome"]!.GetValue<string>() == "FIRED").Select(o => o.Time("occurrence_at")));
            Assert.Equal(due.Take(4), occurrences.Where(o => o["outcome"]!.GetValue<string>() == "MISSED").Select(o => o.Time("occurrence_at")).Order());
            Assert.Equal(5, occurrences.Count);
            Assert.Equal(due[^1], task["job"]!["occurrence_at"]!.GetValue<DateTimeOffset>());
            Assert.Equal("SUCCEEDED", task.State());
            var missed = await platform.OccurrencesAsync(job, "missed");
            Assert.All(missed, m => Assert.Contains("missed", m["reason"]!.GetValue<string>()));
            Assert.Single(await platform.JobTasksAsync(job));
        }
        finally
        {
            if (platform.Services.Count(s => s.Service == "Scheduler") == 0)
            {
                await Task.WhenAll(
                    platform.StartAsync("Scheduler", ("Scheduler__Name", PlatformFixture.SchedulerA)),
                    platform.StartAsync("Scheduler", ("Scheduler__Name", PlatformFixture.SchedulerB)));
            }
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task Two_schedules_of_one_job_in_different_time_zones_fire_at_their_own_local_time()
    {
        var app = await platform.RegisterAppAsync();
        var job = await platform.CreateJobAsync(app, command: "true");
        try
        {
            // 09:00 on 15 January, in Berlin (08:00Z) and in New York (14:00Z).
            var berlin = await platform.AddScheduleAsync(job, "0 0 9 15 1 *", "Europe/Berlin");
            var newYork = await platform.AddScheduleAsync(job, "0 0 9 15 1 *", "America/New_York");
            var year = DateTimeOffset.UtcNow.Year + 1;

            var clock = await platform.StartAsync("Scheduler",
                ("Scheduler__Name", "scheduler-clock"), ("Scheduler__ClockStart", $"{year}-01-15T13:59:57Z"));
            try
            {
                var tasks = await platform.EventuallyAsync(() => platform.JobTasksAsync(job), t => t.Count >= 2, Patience, "both schedules firing");
                var byZone = tasks.ToDictionary(t => t["job"]!["schedule_guid"]!.GetValue<Guid>(), t => t.OccurrenceAt());

                Assert.Equal(new DateTimeOffset(year, 1, 15, 8, 0, 0, TimeSpan.Zero), byZone[berlin]);
                Assert.Equal(new DateTimeOffset(year, 1, 15, 14, 0, 0, TimeSpan.Zero), byZone[newYork]);
                Assert.Empty(await platform.OccurrencesAsync(job, "missed"));
            }
            finally
            {
                await platform.StopAsync(clock);
            }
            Assert.Equal(2, (await platform.JobTasksAsync(job)).Count);
        }
        finally
        {
            await platform.DeleteJobAsync(job);
        }
    }

    [Fact]
    public async Task On_daylight_saving_days_a_time_in_the_gap_runs_after_it_and_a_time_in_the_overlap_runs_once()
    {
        var app = await platform.RegisterAppAsync();
        var springJob = await platform.CreateJobAsync(app, command: "true");
        var fallJob = await platform.CreateJobAsync(app, command: "true");
        var year = DateTimeOffset.UtcNow.Year + 1;
        var springDay = SecondSunday(year, 3);
        var fallDay = FirstSunday(year, 11);
        try
        {
            // New York: on the spring day 02:30 does not exist (02:00 EST is 03:00 EDT); on the fall day 01:30 happens twice.
            await platform.AddScheduleAsync(springJob, $"30 2 {springDay.Day} 3 *", "America/New_York");
            await platform.AddScheduleAsync(fallJob, $"30 1 {fallDay.Day} 11 *", "America/New_York");

            // The clock starts after both 01:30s of the fall day: the scheduler catches up on everything since the schedules were made.
            var clock = await platform.StartAsync("Scheduler",
                ("Scheduler__Name", "scheduler-clock"), ("Scheduler__ClockStart", fallDay.AddHours(6).AddMinutes(35).ToString("O")));
            try
            {
                var spring = await platform.EventuallyAsync(() => platform.JobTasksAsync(springJob), t => t.Count >= 1, Patience, "the spring-forward run");
                var fall = await platform.EventuallyAsync(() => platform.JobTasksAsync(fallJob), t => t.Count >= 1, Patience, "the fall-back run");

                // 03:00 EDT, the first moment after the gap.
                Assert.Equal(springDay.AddHours(7), Assert.Single(spring).OccurrenceAt());
                // 01:30 EDT (05:30Z) only; not again at 01:30 EST (06:30Z), and that is not a missed run either.
                Assert.Equal(fallDay.AddHours(5).AddMinutes(30), Assert.Single(fall).OccurrenceAt());
                Assert.Single(await platform.OccurrencesAsync(fallJob));
                Assert.Single(await platform.OccurrencesAsync(springJob));
            }
            finally
            {
                await platform.StopAsync(clock);
            }
        }
        finally
        {
            await platform.DeleteJobAsync(springJob);
            await platform.DeleteJobAsync(fallJob);
        }
    }

    private static DateTimeOffset FirstSunday(int year, int month)
    {
        var day = new DateTimeOffset(year, month, 1, 0, 0, 0, TimeSpan.Zero);
        while (day.DayOfWeek != DayOfWeek.Sunday) day = day.AddDays(1);
        return day;
    }

    private static DateTimeOffset SecondSunday(int year, int month) => FirstSunday(year, month).AddDays(7);

    /// <summary>Lateness of firing: occurrence time to the moment the Scheduler recorded it, just before publishing RunTask.</summary>
    private void ReportLateness(string what, IReadOnlyList<JsonNode> fired)
    {
        // From the occurrence's time to its records' commit: negative for an Always job's, fired ahead of its time.
        var lateness = fired.Select(o => (o.Time("recorded_at") - o.Time("occurrence_at")).TotalMilliseconds).Order().ToList();
        double Percentile(double p) => lateness[(int)Math.Ceiling(p * lateness.Count) - 1];
        output.WriteLine($"lateness ({what}, n={lateness.Count}): p50 {Percentile(0.5):0.0} ms, p99 {Percentile(0.99):0.0} ms, max {lateness[^1]:0.0} ms");
    }
}
