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

    /// <summary>
    /// After its first sweep (every app) a host sweeps only the apps that can have something to prune. Each
    /// app here is made after that first sweep, with no completion message to react to, so only a later
    /// sweep can find it: one over the count limit, one with tasks older than the age limit, one whose
    /// recent tasks' output is over the byte cap, and one within every limit.
    /// </summary>
    [Fact]
    public async Task Later_sweeps_find_the_apps_over_a_limit_without_a_completion_message()
    {
        var environment = platform.Environment(("Retention__SweepInterval", "00:00:01"), ("Retention__MaxTasksPerApp", "20"),
            ("Retention__MaxAge", "2h"), ("Retention__MaxLogBytesPerTask", "200"));
        await using var retention = ServiceProcess.Start("Retention", environment, Path.Combine(platform.LogDirectory, platform.Isolation, "later-sweeps"));
        await retention.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(3));

        await using var history = new TaskHistory(platform);
        var now = DateTimeOffset.UtcNow;
        var (over, old, chatty, within) = (await platform.RegisterAppAsync(), await platform.RegisterAppAsync(), await platform.RegisterAppAsync(), await platform.RegisterAppAsync());
        await history.SeedAsync(over, Enumerable.Range(1, 30).Select(n => new SeededTask(n, TaskState.Succeeded, now.AddSeconds(n - 30), LogLines: 1)).ToList());
        await history.SeedAsync(old, Enumerable.Range(1, 5).Select(n => new SeededTask(n, TaskState.Failed, n <= 3 ? now.AddHours(-3) : now, LogLines: 1)).ToList());
        var talkative = await history.SeedAsync(chatty, [new SeededTask(1, TaskState.Succeeded, now, LogLines: 40)]);
        await history.SeedAsync(within, Enumerable.Range(1, 5).Select(n => new SeededTask(n, TaskState.Succeeded, now, LogLines: 1)).ToList());

        await history.WaitUntilAsync(async () => (await history.TasksOfAsync(over)).Count == 20 && (await history.TasksOfAsync(old)).Count == 2
                                                 && (await history.LogTextOfAsync(talkative[0])).Count < 40,
            TimeSpan.FromSeconds(60), "later sweeps pruning the apps over a limit");

        Assert.Equal(Enumerable.Range(11, 20).Select(n => (long)n), (await history.TasksOfAsync(over)).Select(t => t.SequenceId));
        Assert.Equal([4L, 5L], (await history.TasksOfAsync(old)).Select(t => t.SequenceId));
        Assert.InRange((await history.LogTextOfAsync(talkative[0])).Sum(l => l.Length), 1, 200);
        Assert.Equal(5, (await history.TasksOfAsync(within)).Count);
        Assert.All(await history.RunsOfAsync(over), r => Assert.Equal("Sweep", r.Reason));
        Assert.DoesNotContain("fail: Platform.Retention", retention.Tail(500));
    }
}
