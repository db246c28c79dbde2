using Platform.Retention.Pruning;
using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Retention.Pruning;

public sealed class RetentionPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Tasks with sequence ids count..1 (newest first), the one with id n finished n hours after a fixed start.</summary>
    private static List<FinishedTask> Finished(int count, DateTimeOffset? newestFinishedAt = null) =>
        Enumerable.Range(1, count).Reverse()
            .Select(n => new FinishedTask(Id(n), n, (newestFinishedAt ?? Now) - TimeSpan.FromHours(count - n)))
            .ToList();

    private static Guid Id(int n) => new(n, 0, 0, new byte[8]);

    [Fact]
    public void Past_the_count_limit_the_oldest_go_oldest_first()
    {
        var doomed = RetentionPolicy.SelectForDeletion(Finished(520), new RetentionLimits(500, null, null), Now);

        Assert.Equal(Enumerable.Range(1, 20).Select(Id), doomed);
    }

    [Fact]
    public void At_or_under_the_count_limit_nothing_goes()
    {
        Assert.Empty(RetentionPolicy.SelectForDeletion(Finished(500), new RetentionLimits(500, null, null), Now));
        Assert.Empty(RetentionPolicy.SelectForDeletion(Finished(3), new RetentionLimits(500, null, null), Now));
        Assert.Empty(RetentionPolicy.SelectForDeletion([], new RetentionLimits(1, TimeSpan.FromHours(1), null), Now));
    }

    [Fact]
    public void The_age_limit_bites_first_when_tasks_are_old()
    {
        // Ten tasks, one finished per hour up to now; a five-hour limit keeps ids 6..10 (ages 4h..0h) and 5 (exactly 5h).
        var doomed = RetentionPolicy.SelectForDeletion(Finished(10), new RetentionLimits(500, TimeSpan.FromHours(5), null), Now);

        Assert.Equal(Enumerable.Range(1, 4).Select(Id), doomed);
    }

    [Fact]
    public void The_count_limit_bites_first_when_tasks_are_young()
    {
        var doomed = RetentionPolicy.SelectForDeletion(Finished(10), new RetentionLimits(3, TimeSpan.FromDays(30), null), Now);

        Assert.Equal(Enumerable.Range(1, 7).Select(Id), doomed);
    }

    [Fact]
    public void Newest_means_highest_sequence_id_not_latest_finish()
    {
        // Task 2 was accepted after task 1 but finished long before it: task 2 is still the newer one.
        List<FinishedTask> newestFirst = [new(Id(2), 2, Now - TimeSpan.FromDays(1)), new(Id(1), 1, Now)];

        Assert.Equal([Id(1)], RetentionPolicy.SelectForDeletion(newestFirst, new RetentionLimits(1, null, null), Now));
    }
}
