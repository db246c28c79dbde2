using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Kubernetes;

/// <summary>
/// A whole Platform whose executors run tasks as Pods (<c>Executor:Runtime=Kubernetes</c>) on the in-process
/// <see cref="KubernetesTestServer"/>, whose kubelet runs them as Docker containers. Without Docker (see
/// <see cref="DockerEngine.Unavailable"/>) nothing is started and the tests say why they are skipped.
/// </summary>
public sealed class KubernetesFixture : PlatformFixture
{
    /// <summary>The task image deploy/offline/build-images.sh builds (debootstrap minbase): it has /bin/sh and coreutils.</summary>
    public const string Image = "platform-local/debian:bookworm";

    public KubernetesTestServer Server { get; private set; } = null!;

    protected override IEnumerable<(string Name, string Value)> Settings =>
    [
        ("Executor__Runtime", "Kubernetes"),
        ("Executor__Kubernetes__Url", Server.Url.ToString()),
        ("Executor__Kubernetes__Namespace", KubernetesTestServer.Namespace),
        ("Executor__Kubernetes__DefaultImage", Image),
        // Long enough that an executor killed and started again (about 10 s on a loaded machine) comes back
        // within its lease, so that no other service reaps its tasks meanwhile.
        ("Executor__LeaseDuration", "00:01:00"),
    ];

    public override async Task InitializeAsync()
    {
        if (DockerEngine.Unavailable() is not null) return;
        Server = await KubernetesTestServer.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Server is null) return;
        await base.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>A test that needs Docker (the test API server's kubelet): skipped, with the reason, where there is none.</summary>
public sealed class DockerFactAttribute : FactAttribute
{
    public DockerFactAttribute()
    {
        if (DockerEngine.Unavailable() is { } why) Skip = why;
    }
}
