using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Faults;

/// <summary>
/// A platform for fault injection: two executors with room for many tasks (two schedulers, as every fixture),
/// and short lease, reaping, re-dispatch and drain periods so that recovery is observable in seconds. Its
/// servers are its own containers where test.sh provides them, so that its tests stop and start them for real.
/// </summary>
public sealed class FaultsFixture : PlatformFixture
{
    protected override bool OwnServers => true;

    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(4);
    public static readonly TimeSpan RedispatchAfter = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan ReapingInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DrainPeriod = TimeSpan.FromSeconds(5);

    protected override IEnumerable<(string Name, string Value)> Settings =>
    [
        ("Executor__MaxConcurrentTasks", "40"),
        ("Executor__ClaimConcurrency", "8"),
        ("Executor__LeaseDuration", Lease.ToString()),
        ("Executor__LeaseRenewInterval", "00:00:01"),
        ("Executor__RedispatchAfter", RedispatchAfter.ToString()),
        ("Executor__DrainPeriod", DrainPeriod.ToString()),
        ("Reaping__Interval", ReapingInterval.ToString()),
        ("Reaping__RequeueAfter", RedispatchAfter.ToString()),
    ];

    /// <summary>Counts from the environment (PLATFORM_FAULT_SCALE, default 1) so that CI runs small and a switch runs large.</summary>
    public static int Scaled(int count) =>
        count * Math.Max(1, int.TryParse(System.Environment.GetEnvironmentVariable("PLATFORM_FAULT_SCALE"), out var scale) ? scale : 1);
}

[CollectionDefinition(Name)]
public sealed class FaultsCollection : ICollectionFixture<FaultsFixture>
{
    public const string Name = "faults";
}
