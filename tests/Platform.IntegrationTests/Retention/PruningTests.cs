using System.Net;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore.Tasks;

namespace Platform.IntegrationTests.Retention;

/// <summary>The shared Retention process pruning an app when one of its tasks completes on a real executor.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PruningTests(PlatformFixture platform) : IAsyncLifetime
{
    private TaskHistory _history = null!;

    public Task InitializeAsync()
    {
        _history = new TaskHistory(platform);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _history.DisposeAsync();

    [Fact]
    public async Task An_app_with_520_finished_tasks_keeps_exactly_the_newest_500_and_the_oldest_go_with_their_logs()
    {
        var app = await platform.RegisterAppAsync();
        var old = DateTimeOffset.UtcNow - TimeSpan.FromDays(3);
        // Sequence 1 and 2 are the oldest of all, and unfinished; 3..521 finished (519); the real task below is 522.
        var seeded = await _history.SeedAsync(app, [
            new SeededTask(1, TaskState.Running, old),
            new SeededTask(2, TaskState.Pending, old),
            .. Enumerable.Range(3, 519).Select(n => new SeededTask(n, n % 7 == 0 ? TaskState.Failed : TaskState.Succeeded, old + TimeSpan.FromSeconds(n))),
        ]);
        Assert.Empty(await _history.RunsOfAsync(app));

        var last = await platform.RunTaskAsync(app);
        await platform.WaitForEndAsync(last);
        // The run is recorded just after the last deletion commits: wait for both.
        await _history.WaitUntilAsync(async () => (await _history.TasksOfAsync(app)).Count == 502 && (await _history.RunsOfAsync(app)).Count > 0,
            TimeSpan.FromSeconds(30), "pruning to 500 finished");

        var left = await _history.TasksOfAsync(app);
        Assert.Equal([1L, 2L, .. Enumerable.Range(23, 500).Select(n => (long)n)], left.Select(t => t.SequenceId));
        Assert.Equal(["Running", "Pending"], left.Take(2).Select(t => t.State));
        var gone = seeded.Skip(2).Take(20).ToList();
        Assert.Equal(0, await _history.RowsLeftAsync(gone));
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/tasks/{gone[0]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/tasks/{gone[^1]}/logs")).StatusCode);
        // The first kept task still has everything: its events, stream, read model and two log lines.
        Assert.Equal(3 + 1 + 1 + 2, await _history.RowsLeftAsync([seeded[22]]));
        Assert.Equal(HttpStatusCode.OK, (await platform.Api.GetAsync($"/v3/tasks/{seeded[22]}")).StatusCode);
        var runs = await _history.RunsOfAsync(app);
        Assert.Equal(20, runs.Sum(r => r.Deleted));
        Assert.All(runs, r => Assert.Equal("TaskEnded", r.Reason));
    }

    [Fact]
    public async Task Pending_running_and_canceling_tasks_survive_an_apps_own_count_and_age_limits_while_old_finished_ones_go()
    {
        var app = await platform.RegisterAppAsync(retention: new { max_tasks = 3, max_age = "1d" });
        var longAgo = DateTimeOffset.UtcNow - TimeSpan.FromDays(60);
        var monthAgo = DateTimeOffset.UtcNow - TimeSpan.FromDays(40);
        var recent = DateTimeOffset.UtcNow - TimeSpan.FromHours(1);
        var seeded = await _history.SeedAsync(app, [
            new SeededTask(1, TaskState.Running, longAgo),
            new SeededTask(2, TaskState.Pending, longAgo),
            .. Enumerable.Range(3, 8).Select(n => new SeededTask(n, TaskState.Succeeded, monthAgo)),
            new SeededTask(11, TaskState.Running, longAgo),
            new SeededTask(12, TaskState.Failed, recent),
            new SeededTask(13, TaskState.Succeeded, recent),
            new SeededTask(14, TaskState.Succeeded, monthAgo),
            new SeededTask(15, TaskState.Running, longAgo),
        ]);
        await _history.MarkCancelingAsync(seeded[^1]);

        await platform.WaitForEndAsync(await platform.RunTaskAsync(app));
        await _history.WaitUntilAsync(async () => (await _history.TasksOfAsync(app)).Count == 6 && (await _history.RunsOfAsync(app)).Count > 0,
            TimeSpan.FromSeconds(30), "pruning by age");

        var left = await _history.TasksOfAsync(app);
        // The three newest finished are 16 (the real task), 14 and 13: the count takes 12 and older. 14 is among
        // them but finished 40 days ago: the age takes it. The unfinished 1, 2, 11 and 15 are older still and stay.
        Assert.Equal([(1L, "Running"), (2L, "Pending"), (11L, "Running"), (13L, "Succeeded"), (15L, "Canceling"), (16L, "Succeeded")], left);
        Assert.Equal(10, (await _history.RunsOfAsync(app)).Sum(r => r.Deleted));
    }

    [Fact]
    public async Task An_apps_log_byte_cap_keeps_the_last_lines_of_each_finished_task()
    {
        var app = await platform.RegisterAppAsync(retention: new { max_log_bytes = 20 });
        var seeded = (await _history.SeedAsync(app, [new SeededTask(1, TaskState.Succeeded, DateTimeOffset.UtcNow, LogLines: 0)]))[0];
        await _history.AppendLogAsync(seeded, "line-01xx", "line-02xx", "line-03xx", "line-04xx", "the end!!");

        var real = await platform.RunTaskAsync(app, new { command = "echo aaaaaaaaa; echo bbbbbbbbb; echo ccccccccc" });
        await platform.WaitForEndAsync(real);
        await _history.WaitUntilAsync(async () => (await _history.LogTextOfAsync(seeded)).Count == 2, TimeSpan.FromSeconds(30), "trimming logs");

        Assert.Equal(["line-04xx", "the end!!"], await _history.LogTextOfAsync(seeded));
        Assert.Equal(["bbbbbbbbb", "ccccccccc"], await _history.LogTextOfAsync(real));
        // Trimming keeps line numbers, so a reader sees where the output now starts.
        var logs = await platform.GetLogsAsync(seeded);
        Assert.Equal([4L, 5L], logs.Select(l => l!["sequence"]!.GetValue<long>()));
        Assert.Equal(2, (await _history.TasksOfAsync(app)).Count);
    }
}
