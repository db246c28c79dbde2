using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.Cli;

/// <summary>kf's job verbs through the built CLI, with several schedules per job and the job's history of occurrences.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CliJobTests(PlatformFixture platform) : IDisposable
{
    private readonly CliRunner _cli = new(platform);

    [Fact]
    public async Task A_job_is_created_scheduled_run_suspended_resumed_its_history_read_and_deleted()
    {
        var app = await platform.RegisterAppAsync();
        var job = "job-" + Guid.NewGuid().ToString("N")[..10];

        // A bad schedule is refused by the CLI itself, with the server's parser: nothing is created.
        var badCron = await _cli.RunAsync("create-job", app, job, "--command", "echo tick", "--schedule", "61 * * * *");
        Assert.True(badCron.ExitCode == 64, badCron.ToString());
        Assert.Contains("'61 * * * *' is not a valid cron expression", badCron.Err);
        var badZone = await _cli.RunAsync("create-job", app, job, "--schedule", "0 3 * * *", "--time-zone", "Mars/Olympus");
        Assert.Equal(64, badZone.ExitCode);
        Assert.Empty((await _cli.RunAsync("jobs", app, "--json")).Json.AsArray());

        var created = await _cli.RunAsync("create-job", app, job, "--command", "echo tick", "--concurrency-policy", "Forbid",
            "--schedule", "0 3 1 1 *", "--time-zone", "Europe/Berlin", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("Forbid", created.Json["job"]!["concurrency_policy"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", created.Json["schedule"]!["time_zone"]!.GetValue<string>());

        // A second schedule (kf allows one): every two seconds, so that occurrences are fired while we look.
        var second = await _cli.RunAsync("schedule-job", job, "*/2 * * * * *");
        Assert.True(second.ExitCode == 0, second.ToString());
        var schedules = await _cli.RunAsync("job-schedules", job, "--json");
        Assert.Equal(["0 3 1 1 *", "*/2 * * * * *"], schedules.Json.AsArray().Select(s => s!["cron"]!.GetValue<string>()));
        Assert.Matches(@"(?m)^guid\s+cron\s+time zone\s+next run$", (await _cli.RunAsync("job-schedules", job)).Out);

        var list = await _cli.RunAsync("jobs");
        Assert.Matches($@"(?m)^{job}\s+{app}\s+ACTIVE\s+Forbid\s+echo tick$", list.Out);

        var suspended = await _cli.RunAsync("suspend-job", job, "--json");
        Assert.Equal("SUSPENDED", suspended.Json["state"]!.GetValue<string>());
        var run = await _cli.RunAsync("run-job", job, "--wait");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("OUT tick", run.Out);
        Assert.Equal("ACTIVE", (await _cli.RunAsync("resume-job", job, "--json")).Json["state"]!.GetValue<string>());

        var deadline = DateTime.UtcNow.AddSeconds(30);
        CliResult history;
        do
        {
            await Task.Delay(500);
            history = await _cli.RunAsync("job-history", job, "--json");
        } while (!history.Json["occurrences"]!.AsArray().Any(o => o!["outcome"]!.GetValue<string>() == "FIRED") && DateTime.UtcNow < deadline);
        Assert.Contains(history.Json["occurrences"]!.AsArray(), o => o!["outcome"]!.GetValue<string>() == "FIRED");
        var table = await _cli.RunAsync("job-history", job);
        Assert.Matches(@"(?m)^time\s+outcome\s+task\s+state\s+reason$", table.Out);
        Assert.Matches(@"(?m)^\S+ \S+ UTC\s+FIRED\s+\d+\s", table.Out);
        Assert.Matches(@"(?m)^\S+ \S+ UTC\s+RUN\s+\d+\s+SUCCEEDED\s+run by hand$", table.Out);

        var deleted = await _cli.RunAsync("delete-job", job);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(4, (await _cli.RunAsync("job-schedules", job)).ExitCode);
    }

    public void Dispose() => _cli.Dispose();
}
