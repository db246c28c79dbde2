using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Configuration;

/// <summary>Bad settings stop a service at start-up with a message that names them, instead of failing later.</summary>
[Collection(PlatformCollection.Name)]
public sealed class StartupValidationTests(PlatformFixture platform)
{
    private async Task<string> StartExpectingFailureAsync(string service, params (string, string)[] settings)
    {
        await using var process = ServiceProcess.Start(service, platform.Environment(settings), Path.Combine(platform.LogDirectory, platform.Isolation, "startup"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30)));
        return process.Tail(200);
    }

    /// <summary>Starts a service that must become healthy with these settings; returns its log so far, and stops it.</summary>
    private async Task<string> StartExpectingHealthAsync(string service, TimeSpan within, params (string, string)[] settings)
    {
        await using var process = ServiceProcess.Start(service, platform.Environment(settings), Path.Combine(platform.LogDirectory, platform.Isolation, "startup"));
        await process.WaitUntilHealthyAsync(within);
        return process.Tail(200);
    }

    [Fact]
    public async Task A_size_that_is_not_cf_style_stops_the_api_naming_the_setting()
    {
        var log = await StartExpectingFailureAsync("Api", ("Apps__DefaultMemory", "lots"));
        Assert.Contains("Apps:DefaultMemory", log);
        Assert.Contains("'lots' is not a size", log);
    }

    [Fact]
    public async Task An_executor_that_cannot_sandbox_refuses_to_start_unless_unsandboxed_is_allowed()
    {
        // Neither the launcher nor bubblewrap, the two ways a sandbox is made.
        var log = await StartExpectingFailureAsync("Executor", ("Executor__Name", "no-sandbox"), ("Executor__Sandbox__Bubblewrap", "/nonexistent/bwrap"),
            ("Executor__Sandbox__Launcher", "/nonexistent/platform-sandbox-launch"));
        Assert.Contains("Cannot sandbox tasks", log);
        Assert.Contains("AllowUnsandboxed", log);

        var allowed = await StartExpectingHealthAsync("Executor", TimeSpan.FromSeconds(30),
            ("Executor__Name", "unsandboxed"), ("Executor__Sandbox__Bubblewrap", "/nonexistent/bwrap"), ("Executor__Sandbox__Launcher", "/nonexistent/platform-sandbox-launch"),
            ("Executor__Sandbox__AllowUnsandboxed", "true"));
        Assert.Contains("Tasks run UNSANDBOXED", allowed);
    }

    [Fact]
    public async Task An_executor_that_lacks_an_isolation_layer_refuses_to_start_naming_it_unless_weaker_isolation_is_allowed()
    {
        var log = await StartExpectingFailureAsync("Executor", ("Executor__Name", "no-netns"), ("Executor__Sandbox__Slirp4netns", "/nonexistent/slirp4netns"),
            ("Executor__Sandbox__TaskUser", "no-such-task-user"));
        Assert.Contains("Cannot isolate tasks fully", log);
        Assert.Contains("a network namespace per task", log);
        Assert.Contains("no-such-task-user", log);
        Assert.Contains("AllowWeakerIsolation", log);

        var allowed = await StartExpectingHealthAsync("Executor", TimeSpan.FromSeconds(60),
            ("Executor__Name", "weaker"), ("Executor__Sandbox__Slirp4netns", "/nonexistent/slirp4netns"), ("Executor__Sandbox__AllowWeakerIsolation", "true"));
        Assert.Contains("WEAKER ISOLATION: tasks run without a network namespace per task", allowed);
    }

    [Fact]
    public async Task An_unknown_runtime_or_an_unreachable_kubernetes_api_stops_the_executor_naming_it()
    {
        var unknown = await StartExpectingFailureAsync("Executor", ("Executor__Name", "bad-runtime"), ("Executor__Runtime", "Nomad"));
        Assert.Contains("Executor:Runtime", unknown);

        var both = await StartExpectingFailureAsync("Executor", ("Executor__Name", "both-ways"), ("Executor__Runtime", "Kubernetes"),
            ("Executor__Kubernetes__Url", "http://127.0.0.1:9"), ("Executor__Kubernetes__Kubeconfig", "/nonexistent/kubeconfig"));
        Assert.Contains("give Url or Kubeconfig, not both", both);

        // Nothing listens on port 9 (discard): the probe fails at start, before any task is claimed.
        var unreachable = await StartExpectingFailureAsync("Executor", ("Executor__Name", "no-cluster"), ("Executor__Runtime", "Kubernetes"),
            ("Executor__Kubernetes__Url", "http://127.0.0.1:9"));
        Assert.Contains("Cannot run tasks on Kubernetes", unreachable);
        Assert.Contains("platform-tasks", unreachable);
    }

    [Fact]
    public async Task An_unfinished_task_limit_out_of_range_stops_the_scheduler_and_the_api_naming_it()
    {
        // One options type for both: the Scheduler skips past the same limits the Api refuses past.
        var scheduler = await StartExpectingFailureAsync("Scheduler", ("Scheduler__Name", "bad-limit"), ("Access__Limits__MaxUnfinishedTasksPerApp", "0"));
        Assert.Contains("MaxUnfinishedTasksPerApp", scheduler);
        var api = await StartExpectingFailureAsync("Api", ("Access__Limits__MaxUnfinishedTasksPerSpace", "0"));
        Assert.Contains("MaxUnfinishedTasksPerSpace", api);
    }
}
