using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore.Tasks;

namespace Platform.IntegrationTests.Retention;

/// <summary>Retention processes of the test's own, sweeping every second, with no completion message to react to.</summary>
[Collection(PlatformCollection.Name)]
public sealed class SweepingTests(PlatformFixture platform)
{
    [Fact]
    public async Task Two_retention_hosts_side_by_side_delete_each_task_once()
    {
        var app = await platform.RegisterAppAsync(retention: new { max_tasks = 10 });
        await using var history = new TaskHistory(platform);
        var seeded = await history.SeedAsync(app,
            Enumerable.Range(1, 3000).Select(n => new SeededTask(n, TaskState.Succeeded, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(3000 - n))).ToList());

        // Small batches, so that the two hosts' work interleaves many times over.
        var environment = platform.Environment(("Retention__SweepInterval", "00:00:01"), ("Retention__BatchSize", "50"));
        var logs = Path.Combine(platform.LogDirectory, platform.Isolation, "two-replicas");
        await using var first = ServiceProcess.Start("Retention", environment, logs);
        await using var second = ServiceProcess.Start("Retention", environment, Path.Combine(logs, "second"));
        await Task.WhenAll(first.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60)), second.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60)));
        await history.WaitUntilAsync(async () => (await history.TasksOfAsync(app)).Count == 10 && (await history.RunsOfAsync(app)).Count > 0,
            TimeSpan.FromSeconds(60), "sweeping to 10 tasks");
        // A few more sweeps of both hosts over the pruned app: they must find nothing more to do.
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal(Enumerable.Range(2991, 10).Select(n => (long)n), (await history.TasksOfAsync(app)).Select(t => t.SequenceId));
        Assert.Equal(0, await history.RowsLeftAsync(seeded.Take(2990)));
        var runs = await history.RunsOfAsync(app);
        Assert.Equal(2990, runs.Sum(r => r.Deleted));
        Assert.All(runs, r => Assert.Equal("Sweep", r.Reason));
        Assert.False(first.HasExited || second.HasExited);
        // No prune failed (and so none was retried in a loop) on either host.
        Assert.DoesNotContain("fail: Platform.Retention", first.Tail(500) + second.Tail(500));
    }
}
