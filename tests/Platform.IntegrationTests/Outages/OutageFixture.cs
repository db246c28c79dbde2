using Npgsql;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Outages;

/// <summary>
/// A platform whose services reach PostgreSQL and RabbitMQ through a <see cref="TcpProxy"/> each, so that a
/// test can make either server unreachable for this platform alone: the servers are shared with other test
/// runs and are never stopped.
/// </summary>
public sealed class OutageFixture : PlatformFixture
{
    public TcpProxy Postgres { get; private set; } = null!;
    public TcpProxy RabbitMq { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        var servers = await TestServers.GetAsync();
        var postgres = new NpgsqlConnectionStringBuilder(servers.PostgresConnectionString);
        Postgres = new TcpProxy(postgres.Host!, postgres.Port);
        RabbitMq = new TcpProxy(servers.RabbitHost, servers.RabbitPort);
        await base.InitializeAsync();
    }

    protected override IEnumerable<(string Name, string Value)> Settings
    {
        get
        {
            var postgres = new NpgsqlConnectionStringBuilder(Servers.PostgresConnectionString)
            {
                Host = "127.0.0.1", Port = Postgres.Port, ApplicationName = Isolation,
            };
            return
            [
                ("TaskStore__ConnectionString", postgres.ConnectionString),
                ("RabbitMq__Host", "127.0.0.1"),
                ("RabbitMq__Port", RabbitMq.Port.ToString()),
            ];
        }
    }

    public override async Task DisposeAsync()
    {
        Postgres.Restore();
        RabbitMq.Restore();
        await base.DisposeAsync();
        await Postgres.DisposeAsync();
        await RabbitMq.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class OutageCollection : ICollectionFixture<OutageFixture>
{
    public const string Name = "outages";
}
