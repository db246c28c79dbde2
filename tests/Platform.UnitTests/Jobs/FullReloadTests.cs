using Platform.Scheduler.Jobs.Scheduling;
using Platform.TaskStore.Jobs;

namespace Platform.UnitTests.Jobs;

/// <summary>A full reload is read in the background while the loop fires: what it read is merged with how far the loop got.</summary>
public sealed class FullReloadTests
{
    private static readonly DateTimeOffset Read = new(2027, 1, 10, 10, 5, 0, TimeSpan.Zero);

    private static DueSchedule Schedule(Guid id, DateTimeOffset since) =>
        new(new Job { Name = "nightly", App = "billing", Command = "bin/report" }, new JobSchedule { Id = id, Job = "nightly", Cron = "* * * * *" },
            JobCron.TryParse("* * * * *", "UTC", out _)!, since);

    [Fact]
    public void A_schedule_fired_while_the_reload_read_keeps_its_progress_and_the_read_decides_which_schedules_exist()
    {
        Guid fired = Guid.NewGuid(), untouched = Guid.NewGuid(), added = Guid.NewGuid(), removed = Guid.NewGuid();
        var current = new[] { Schedule(fired, Read.AddMinutes(1)), Schedule(untouched, Read), Schedule(removed, Read) };
        var loaded = new List<DueSchedule> { Schedule(fired, Read), Schedule(untouched, Read), Schedule(added, Read) };

        var merged = JobScheduler.Merge(loaded, current);

        Assert.Equal([fired, untouched, added], merged.Select(s => s.Schedule.Id));
        Assert.Equal(Read.AddMinutes(1), merged[0].Since);
        Assert.Equal(Read.AddMinutes(2), merged[0].NextDue);
        Assert.Equal(Read, merged[1].Since);
        Assert.Equal(Read, merged[2].Since);
    }
}
