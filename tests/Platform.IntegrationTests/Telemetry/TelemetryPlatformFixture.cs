using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Telemetry;

/// <summary>
/// A whole Platform whose services export their traces, metrics and logs over OTLP/HTTP to an
/// <see cref="OtlpReceiver"/> in the test, configured only through the standard OTEL_* variables, with
/// short export intervals so that what a service records arrives within a second.
/// </summary>
public sealed class TelemetryPlatformFixture : PlatformFixture
{
    public const string DeploymentEnvironment = "telemetry-test";

    public OtlpReceiver Receiver { get; } = new();

    protected override IEnumerable<(string Name, string Value)> Settings =>
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", Receiver.Endpoint.ToString().TrimEnd('/')),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_RESOURCE_ATTRIBUTES", $"deployment.environment.name={DeploymentEnvironment}"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        // A short lease, so that an executor killed in a test is noticed within seconds.
        ("Executor__LeaseDuration", "00:00:04"),
        ("Executor__LeaseRenewInterval", "00:00:01"),
    ];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TelemetryPlatformCollection : ICollectionFixture<TelemetryPlatformFixture>
{
    public const string Name = "telemetry platform";
}
