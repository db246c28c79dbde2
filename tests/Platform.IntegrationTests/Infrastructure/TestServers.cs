using Npgsql;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>Where the real PostgreSQL and RabbitMQ are.</summary>
public sealed record ServerEndpoints(
    string PostgresConnectionString, string RabbitHost, int RabbitPort, string RabbitUser, string RabbitPassword, Uri RabbitManagement);

/// <summary>
/// The servers most fixtures share (one schema and one virtual host each): endpoints given by environment
/// variables (PLATFORM_TEST_POSTGRES, PLATFORM_TEST_RABBITMQ as amqp://user:pass@host:port,
/// PLATFORM_TEST_RABBITMQ_MANAGEMENT), else the local servers that eng/setup.sh installs and starts.
/// A fixture that needs servers of its own (to stop and start them) asks <see cref="ContainerServers"/>.
/// </summary>
public static class TestServers
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static ServerEndpoints? _endpoints;

    public static async Task<ServerEndpoints> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _endpoints ??= FromEnvironment() ?? Local();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static ServerEndpoints? FromEnvironment()
    {
        var postgres = Environment.GetEnvironmentVariable("PLATFORM_TEST_POSTGRES");
        var rabbit = Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ");
        if (string.IsNullOrEmpty(postgres) || string.IsNullOrEmpty(rabbit)) return null;
        var amqp = new Uri(rabbit);
        var credentials = Uri.UnescapeDataString(amqp.UserInfo).Split(':', 2);
        var management = Environment.GetEnvironmentVariable("PLATFORM_TEST_RABBITMQ_MANAGEMENT") ?? $"http://{amqp.Host}:15672";
        return new ServerEndpoints(postgres, amqp.Host, amqp.Port > 0 ? amqp.Port : 5672,
            credentials.ElementAtOrDefault(0) ?? "guest", credentials.ElementAtOrDefault(1) ?? "guest", new Uri(management));
    }

    private static ServerEndpoints Local() => new(
        "Host=127.0.0.1;Port=5432;Database=platform;Username=postgres;Password=postgres",
        "127.0.0.1", 5672, "guest", "guest", new Uri("http://127.0.0.1:15672"));

    /// <summary>A fresh PostgreSQL schema name and RabbitMQ virtual host name for one fixture.</summary>
    public static string NewIsolationName() => "t_" + Guid.NewGuid().ToString("N")[..12];

    public static async Task DropSchemaAsync(ServerEndpoints servers, string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(servers.PostgresConnectionString);
        await using var command = dataSource.CreateCommand($"drop schema if exists {schema} cascade");
        await command.ExecuteNonQueryAsync();
    }
}
