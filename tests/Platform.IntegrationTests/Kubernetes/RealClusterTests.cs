using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Kubernetes;

/// <summary>
/// The Kubernetes runtime against a real cluster: runs only where KUBECONFIG names one (its current context;
/// the namespace PLATFORM_TEST_KUBERNETES_NAMESPACE, default platform-tasks, must exist and admit the
/// restricted Pod Security Standard; image PLATFORM_TEST_KUBERNETES_IMAGE, default debian:bookworm-slim).
/// It has never run on the machines this project is built on: they have no cluster.
/// </summary>
public sealed class RealClusterFixture : PlatformFixture
{
    public static string? Unavailable() =>
        System.Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } ? null : "no KUBECONFIG: set it to a cluster's kubeconfig to run against a real cluster";

    private static string Setting(string variable, string fallback) =>
        System.Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : fallback;

    protected override IEnumerable<(string Name, string Value)> Settings =>
    [
        ("Executor__Runtime", "Kubernetes"),
        ("Executor__Kubernetes__Kubeconfig", System.Environment.GetEnvironmentVariable("KUBECONFIG")!.Split(':')[0]),
        ("Executor__Kubernetes__Namespace", Setting("PLATFORM_TEST_KUBERNETES_NAMESPACE", "platform-tasks")),
        ("Executor__Kubernetes__DefaultImage", Setting("PLATFORM_TEST_KUBERNETES_IMAGE", "debian:bookworm-slim")),
    ];

    public override async Task InitializeAsync()
    {
        if (Unavailable() is null) await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Unavailable() is null) await base.DisposeAsync();
    }
}

public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (RealClusterFixture.Unavailable() is { } why) Skip = why;
    }
}

public sealed class RealClusterTests(RealClusterFixture platform) : IClassFixture<RealClusterFixture>
{
    [ClusterFact]
    public async Task A_task_runs_on_the_cluster_with_its_output_and_exit_code_and_its_memory_limit_enforced()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo hello from the cluster; exit 3" });
        var task = await platform.WaitForEndAsync(id, TimeSpan.FromMinutes(5));
        Assert.Equal(3, task["result"]!["exit_code"]!.GetValue<int>());
        Assert.Contains(await platform.GetLogsAsync(id), l => l!["line"]!.GetValue<string>() == "hello from the cluster");

        var hungry = await platform.RunTaskAsync(app, new { command = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}", memory_in_mb = 32 });
        var killed = await platform.WaitForEndAsync(hungry, TimeSpan.FromMinutes(5));
        Assert.StartsWith("memory limit of 32 MB exceeded", killed["result"]!["failure_reason"]!.GetValue<string>());
    }
}
