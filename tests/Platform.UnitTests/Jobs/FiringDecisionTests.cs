using Platform.Scheduler.Jobs.Scheduling;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Jobs;

/// <summary>The scheduler's decision for one due occurrence, per concurrency policy, with nothing but its facts.</summary>
public sealed class FiringDecisionTests
{
    private static readonly DateTimeOffset At = new(2027, 1, 10, 10, 5, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = At.AddMilliseconds(300);
    private static readonly Guid Schedule = Guid.NewGuid();
    private static readonly Guid[] Running = [Guid.NewGuid(), Guid.NewGuid()];

    private static Job Job(ConcurrencyPolicy policy, int? memoryInMb = null) =>
        new() { Name = "nightly", App = "billing", Command = "bin/report", ConcurrencyPolicy = policy, MemoryInMb = memoryInMb };

    private static App App() => new() { Name = "billing", Space = "payments", Command = "bin/serve", MemoryInMb = 256, DiskInMb = 1024 };

    private static readonly UnfinishedTaskLimitOptions Limits = new() { MaxUnfinishedTasksPerApp = 3, MaxUnfinishedTasksPerSpace = 5 };

    private static FiringDecision Decide(Job job, IReadOnlyList<Guid> unfinished, App? app = null, UnfinishedTaskCounts? counts = null) =>
        FiringDecision.Decide(job, Schedule, At, app ?? App(), unfinished, counts ?? new UnfinishedTaskCounts(unfinished.Count, unfinished.Count), Limits, 42, Now);

    [Fact]
    public void Always_fires_while_earlier_runs_are_unfinished_and_replaces_none()
    {
        var fire = Assert.IsType<FiringDecision.Fire>(Decide(Job(ConcurrencyPolicy.Always), Running));

        Assert.Empty(fire.Replaced);
        Assert.Equal(OccurrenceIds.For("nightly", Schedule, At), fire.Task.TaskId);
        Assert.Equal(new TaskOrigin("nightly", Schedule, At), fire.Task.Origin);
        Assert.Equal((42L, "nightly", "bin/report", 256, Now), (fire.Task.SequenceId, fire.Task.Name, fire.Task.Command, fire.Task.MemoryInMb, fire.Task.AcceptedAt));
    }

    [Fact]
    public void Forbid_skips_while_a_run_is_unfinished_and_names_it()
    {
        var skip = Assert.IsType<FiringDecision.Skip>(Decide(Job(ConcurrencyPolicy.Forbid), Running));

        Assert.Equal($"skipped: concurrency policy Forbid, and task {Running[0]} of the job has not ended", skip.Reason);
    }

    [Fact]
    public void Forbid_fires_when_nothing_of_the_job_is_unfinished()
    {
        var fire = Assert.IsType<FiringDecision.Fire>(Decide(Job(ConcurrencyPolicy.Forbid), []));

        Assert.Empty(fire.Replaced);
    }

    [Fact]
    public void Replace_fires_and_ends_every_unfinished_run()
    {
        var fire = Assert.IsType<FiringDecision.Fire>(Decide(Job(ConcurrencyPolicy.Replace), Running));

        Assert.Equal(Running, fire.Replaced);
        Assert.Equal(OccurrenceIds.For("nightly", Schedule, At), fire.Task.TaskId);
    }

    [Theory]
    [InlineData(ConcurrencyPolicy.Always)]
    [InlineData(ConcurrencyPolicy.Replace)]
    public void An_occurrence_whose_app_is_gone_is_skipped(ConcurrencyPolicy policy)
    {
        var skip = Assert.IsType<FiringDecision.Skip>(FiringDecision.Decide(Job(policy), Schedule, At, null, [], UnfinishedTaskCounts.None, Limits, 42, Now));

        Assert.Equal("skipped: the app 'billing' no longer exists", skip.Reason);
    }

    [Fact]
    public void An_occurrence_the_job_no_longer_defines_validly_is_skipped_with_the_field_error()
    {
        var skip = Assert.IsType<FiringDecision.Skip>(Decide(Job(ConcurrencyPolicy.Always, memoryInMb: TaskDefinition.MaxMemoryInMb + 1), []));

        Assert.StartsWith("skipped: memory_in_mb must be between 1 and", skip.Reason);
    }

    [Fact]
    public void Forbid_looks_at_unfinished_runs_before_the_app()
    {
        // The skip names the running task, as before the decision was pulled out of the firer.
        var skip = Assert.IsType<FiringDecision.Skip>(FiringDecision.Decide(Job(ConcurrencyPolicy.Forbid), Schedule, At, null, Running, UnfinishedTaskCounts.None, Limits, 42, Now));

        Assert.Contains("Forbid", skip.Reason);
    }

    [Theory]
    [InlineData(ConcurrencyPolicy.Always)]
    [InlineData(ConcurrencyPolicy.Forbid)]
    public void An_occurrence_of_an_app_at_its_unfinished_task_limit_is_skipped_naming_the_limit(ConcurrencyPolicy policy)
    {
        var skip = Assert.IsType<FiringDecision.Skip>(Decide(Job(policy), [], counts: new UnfinishedTaskCounts(3, 3)));

        Assert.Equal("skipped: App 'billing' already has 3 unfinished tasks: the limit per app (Access:Limits:MaxUnfinishedTasksPerApp) is 3.", skip.Reason);
    }

    [Fact]
    public void An_occurrence_of_a_space_at_its_unfinished_task_limit_is_skipped_naming_the_limit()
    {
        var skip = Assert.IsType<FiringDecision.Skip>(Decide(Job(ConcurrencyPolicy.Always), [], counts: new UnfinishedTaskCounts(1, 5)));

        Assert.Equal("skipped: Space 'payments' already has 5 unfinished tasks: the limit per space (Access:Limits:MaxUnfinishedTasksPerSpace) is 5.", skip.Reason);
    }

    [Fact]
    public void An_occurrence_one_below_both_limits_fires()
    {
        Assert.IsType<FiringDecision.Fire>(Decide(Job(ConcurrencyPolicy.Always), [], counts: new UnfinishedTaskCounts(2, 4)));
    }

    [Fact]
    public void Replace_does_not_count_the_runs_it_ends_against_the_limits()
    {
        // Two of the app's three unfinished tasks are this job's and are about to be cancelled.
        var fire = Assert.IsType<FiringDecision.Fire>(Decide(Job(ConcurrencyPolicy.Replace), Running, counts: new UnfinishedTaskCounts(3, 3)));

        Assert.Equal(Running, fire.Replaced);
        // Always ends none of them, so the same facts are past the limit.
        Assert.IsType<FiringDecision.Skip>(Decide(Job(ConcurrencyPolicy.Always), Running, counts: new UnfinishedTaskCounts(3, 3)));
    }

    [Fact]
    public void A_job_the_app_no_longer_validly_runs_is_skipped_for_that_before_the_limit()
    {
        var skip = Assert.IsType<FiringDecision.Skip>(
            Decide(Job(ConcurrencyPolicy.Always, memoryInMb: TaskDefinition.MaxMemoryInMb + 1), [], counts: new UnfinishedTaskCounts(3, 5)));

        Assert.StartsWith("skipped: memory_in_mb", skip.Reason);
    }
}
