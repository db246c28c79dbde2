using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL and a RabbitMQ container of one fixture's own, through Testcontainers, so that its tests can
/// stop and start them without touching anyone else's. Used only when PLATFORM_TEST_CONTAINERS=1 (test.sh
/// sets it after it has started Docker and built the images): the choice is explicit, never inferred from a
/// socket that happens to exist. Images: PLATFORM_TEST_POSTGRES_IMAGE and PLATFORM_TEST_RABBITMQ_IMAGE
/// (test.sh passes the ones deploy/offline/build-images.sh built; the defaults are the public ones).
/// </summary>
public sealed class ContainerServers : IServerRestarts, IAsyncDisposable
{
    /// <summary>The label test.sh removes leftovers by, should a test run die before its fixtures are disposed.</summary>
    public const string Label = "platform.tests";

    private readonly PostgreSqlContainer _postgres;
    private readonly RabbitMqContainer _rabbit;

    private ContainerServers(PostgreSqlContainer postgres, RabbitMqContainer rabbit, ServerEndpoints endpoints)
    {
        _postgres = postgres;
        _rabbit = rabbit;
        Endpoints = endpoints;
    }

    public static bool Enabled => Environment.GetEnvironmentVariable("PLATFORM_TEST_CONTAINERS") is "1";

    public ServerEndpoints Endpoints { get; private set; }

    public static async Task<ContainerServers> StartAsync()
    {
        // Ryuk, Testcontainers' reaper, is an image from a registry; the fixture disposes its own containers,
        // and test.sh removes any a crashed run left behind (by Label).
        TestcontainersSettings.ResourceReaperEnabled = false;
        // Fixed host ports, so that the endpoints stay true across a stop and start of a container.
        int postgresPort = ServiceProcess.FreePort(), amqpPort = ServiceProcess.FreePort(), managementPort = ServiceProcess.FreePort();
        var postgres = new PostgreSqlBuilder(Image("PLATFORM_TEST_POSTGRES_IMAGE", "postgres:15"))
            .WithDatabase("platform").WithPortBinding(postgresPort, PostgreSqlBuilder.PostgreSqlPort)
            .WithLabel(Label, "1").Build();
        var rabbit = new RabbitMqBuilder(Image("PLATFORM_TEST_RABBITMQ_IMAGE", "rabbitmq:3.13-management"))
            .WithUsername("guest").WithPassword("guest")
            .WithPortBinding(amqpPort, RabbitMqBuilder.RabbitMqPort).WithPortBinding(managementPort, 15672)
            .WithLabel(Label, "1").Build();
        await Task.WhenAll(postgres.StartAsync(), rabbit.StartAsync());
        var servers = new ContainerServers(postgres, rabbit, new ServerEndpoints(
            postgres.GetConnectionString(), "127.0.0.1", amqpPort, "guest", "guest", new Uri($"http://127.0.0.1:{managementPort}")));
        await servers.WaitForManagementAsync();
        // The services run as the platform's own users, with the rights of eng/rabbitmq-users.tsv, as on the
        // local servers: a right the tsv lacks shows here too, not only in production.
        servers.Endpoints = servers.Endpoints with { BrokerUsers = await RabbitMqVirtualHosts.CreateUsersAsync(servers.Endpoints) };
        return servers;
    }

    public string Describe(string server) => $"{server} container stopped and started";

    /// <summary>docker stop: the broker gets SIGTERM and its process ends; every connection to it is gone.</summary>
    public Task StopRabbitMqAsync() => _rabbit.StopAsync();

    public async Task StartRabbitMqAsync()
    {
        await _rabbit.StartAsync();
        await WaitForManagementAsync();
    }

    public async Task RestartPostgresAsync()
    {
        await _postgres.StopAsync();
        await _postgres.StartAsync();
    }

    /// <summary>
    /// "Server startup complete" is already in the log of a container started before, so after a restart
    /// Testcontainers' own wait passes at once: wait until the management API answers (it starts last).
    /// </summary>
    private async Task WaitForManagementAsync()
    {
        using var client = new HttpClient { BaseAddress = Endpoints.RabbitManagement, Timeout = TimeSpan.FromSeconds(2) };
        client.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync("api/overview")).IsSuccessStatusCode) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"RabbitMQ's management API in container {_rabbit.Id} never answered");
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_postgres.DisposeAsync().AsTask(), _rabbit.DisposeAsync().AsTask());
    }

    private static string Image(string variable, string fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } image ? image : fallback;
}
