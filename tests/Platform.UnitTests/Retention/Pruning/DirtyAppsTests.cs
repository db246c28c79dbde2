using Platform.Retention.Pruning;

namespace Platform.UnitTests.Retention.Pruning;

public sealed class DirtyAppsTests
{
    [Fact]
    public async Task A_burst_of_marks_for_one_app_yields_it_once_with_the_first_reason()
    {
        var dirty = new DirtyApps();
        dirty.Mark("billing", PruneReason.TaskEnded);
        for (var i = 0; i < 1000; i++) dirty.Mark("billing", PruneReason.Sweep);
        dirty.Mark("reports", PruneReason.Sweep);

        Assert.Equal(("billing", PruneReason.TaskEnded), await dirty.NextAsync(CancellationToken.None));
        Assert.Equal(("reports", PruneReason.Sweep), await dirty.NextAsync(CancellationToken.None));
        await AssertNothingWaitsAsync(dirty);
    }

    [Fact]
    public async Task A_mark_after_the_app_was_taken_queues_it_again()
    {
        var dirty = new DirtyApps();
        dirty.Mark("billing", PruneReason.Sweep);
        await dirty.NextAsync(CancellationToken.None);

        // A completion while that prune runs: the prune may have read the tasks before it, so the app goes again.
        dirty.Mark("billing", PruneReason.TaskEnded);

        Assert.Equal(("billing", PruneReason.TaskEnded), await dirty.NextAsync(CancellationToken.None));
        await AssertNothingWaitsAsync(dirty);
    }

    private static async Task AssertNothingWaitsAsync(DirtyApps dirty)
    {
        using var shortly = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await dirty.NextAsync(shortly.Token));
    }
}
