using Npgsql;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// Where the real PostgreSQL and RabbitMQ are. <see cref="RabbitUser"/> may administer the broker (the
/// fixture makes a virtual host with it); <see cref="BrokerUsers"/>, when known, are the least-privilege
/// users eng/setup.sh made, by name (platform-api, ..., platform-publisher), that the services run as.
/// </summary>
public sealed record ServerEndpoints(
    string PostgresConnectionString, string RabbitHost, int RabbitPort, string RabbitUser, string RabbitPassword, Uri RabbitManagement)
{
    public IReadOnlyDictionary<string, string> BrokerUsers { get; init; } = new Dictionary<string, string>();
}

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

    /// <summary>
    /// The servers eng/setup.sh installs, with the credentials it generated (/etc/platform/credentials, or
    /// <c>PLATFORM_CONFIG_DIR</c>): the platform's PostgreSQL role, the RabbitMQ administrator for virtual
    /// hosts, and each service's own user. Without that file, the well-known ones of an older setup.
    /// </summary>
    internal static ServerEndpoints Local()
    {
        var directory = Environment.GetEnvironmentVariable("PLATFORM_CONFIG_DIR") is { Length: > 0 } configured ? configured : "/etc/platform";
        var file = Path.Combine(directory, "credentials");
        if (!File.Exists(file))
            return new ServerEndpoints("Host=127.0.0.1;Port=5432;Database=platform;Username=postgres;Password=postgres",
                "127.0.0.1", 5672, "guest", "guest", new Uri("http://127.0.0.1:15672"));
        var values = File.ReadAllLines(file).Where(l => l.Contains('=') && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        var users = new Dictionary<string, string>();
        foreach (var service in new[] { "api", "scheduler", "executor", "retention", "publisher" })
            if (values.TryGetValue($"PLATFORM_RABBITMQ_{service.ToUpperInvariant()}_PASSWORD", out var password)) users["platform-" + service] = password;
        return new ServerEndpoints(
            $"Host=127.0.0.1;Port=5432;Database=platform;Username={values["PLATFORM_POSTGRES_USER"]};Password={values["PLATFORM_POSTGRES_PASSWORD"]}",
            "127.0.0.1", 5672, values["PLATFORM_RABBITMQ_ADMIN_USER"], values["PLATFORM_RABBITMQ_ADMIN_PASSWORD"], new Uri("http://127.0.0.1:15672"))
        {
            BrokerUsers = users,
        };
    }

    /// <summary>A fresh PostgreSQL schema name and RabbitMQ virtual host name for one fixture.</summary>
    public static string NewIsolationName() => "t_" + Guid.NewGuid().ToString("N")[..12];

    public static async Task DropSchemaAsync(ServerEndpoints servers, string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(servers.PostgresConnectionString);
        await using var command = dataSource.CreateCommand($"drop schema if exists {schema} cascade");
        await command.ExecuteNonQueryAsync();
    }
}
