using System.Diagnostics;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>Takes a fixture's PostgreSQL or RabbitMQ away and brings it back, as an outage would.</summary>
public interface IServerRestarts
{
    /// <summary>What the fault is called in a test's report.</summary>
    string Describe(string server);

    Task StopRabbitMqAsync();
    Task StartRabbitMqAsync();
    Task RestartPostgresAsync();
}

/// <summary>
/// The machine's own PostgreSQL and RabbitMQ, which every other fixture (and, on a developer's machine, every
/// other engineer) shares: used only where nothing else runs against them (CI=true or
/// PLATFORM_TEST_RESTART_SERVERS=1).
/// </summary>
public sealed class LocalServerRestarts : IServerRestarts
{
    public static LocalServerRestarts? WhenAllowed =>
        Environment.GetEnvironmentVariable("CI") is "true" || Environment.GetEnvironmentVariable("PLATFORM_TEST_RESTART_SERVERS") is "1"
            ? new LocalServerRestarts() : null;

    public string Describe(string server) => $"{server} restart (the machine's own)";

    public Task StopRabbitMqAsync() => Shell("rabbitmqctl", "stop_app");

    public Task StartRabbitMqAsync() => Shell("rabbitmqctl", "start_app");

    public Task RestartPostgresAsync()
    {
        var version = Directory.GetDirectories("/etc/postgresql").Select(Path.GetFileName).Max()!;
        return Shell("pg_ctlcluster", $"{version} main restart");
    }

    private static async Task Shell(string command, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{command} {arguments}: {await process.StandardError.ReadToEndAsync()}");
    }
}
