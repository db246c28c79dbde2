using Platform.Scheduler.Jobs.Scheduling;
using Platform.TaskStore.Jobs;

namespace Platform.UnitTests.Jobs;

/// <summary>When the scheduling loop fires a schedule, and for which instant it plans, with the fire-ahead window.</summary>
public sealed class FireAheadTests
{
    private static readonly DateTimeOffset Since = new(2027, 1, 10, 10, 5, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Next = Since.AddMinutes(1);
    private static readonly TimeSpan Ahead = TimeSpan.FromSeconds(1);

    private static DueSchedule Schedule(ConcurrencyPolicy policy) =>
        new(new Job { Name = "nightly", App = "billing", Command = "bin/report", ConcurrencyPolicy = policy },
            new JobSchedule { Id = Guid.NewGuid(), Job = "nightly", Cron = "* * * * *" },
            JobCron.TryParse("* * * * *", "UTC", out _)!, Since);

    [Fact]
    public void An_Always_job_is_fired_ahead_and_planned_for_its_occurrence()
    {
        var due = Schedule(ConcurrencyPolicy.Always);

        Assert.Equal(Next - Ahead, due.FireAt(Ahead));
        Assert.Equal(Next, due.PlanAt(Next - Ahead));
        // Once the time has passed (a late loop), it plans for now, as without the window.
        Assert.Equal(Next.AddSeconds(5), due.PlanAt(Next.AddSeconds(5)));
    }

    [Theory]
    [InlineData(ConcurrencyPolicy.Forbid)]
    [InlineData(ConcurrencyPolicy.Replace)]
    public void A_job_that_looks_at_its_running_tasks_fires_at_the_time_itself(ConcurrencyPolicy policy)
    {
        var due = Schedule(policy);

        Assert.Equal(Next, due.FireAt(Ahead));
        Assert.Equal(Next - Ahead, due.PlanAt(Next - Ahead));
    }

    [Fact]
    public void A_retry_waits_for_its_time_and_the_next_occurrence_fires_ahead_again()
    {
        var due = Schedule(ConcurrencyPolicy.Always);
        var retry = Next.AddSeconds(1);

        due.RetryAt(retry);
        Assert.Equal(retry, due.FireAt(Ahead));
        Assert.Equal(retry.AddMilliseconds(-10), due.PlanAt(retry.AddMilliseconds(-10)));

        due.HandledUpTo(Next);
        Assert.Equal(Next.AddMinutes(1) - Ahead, due.FireAt(Ahead));
    }
}
