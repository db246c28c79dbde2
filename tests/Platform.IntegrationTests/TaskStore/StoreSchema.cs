using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore;

namespace Platform.IntegrationTests.TaskStore;

/// <summary>
/// A schema of its own on the real PostgreSQL, with no services around it: a test writes to it directly and
/// starts the task store as a service would (<see cref="StartService"/>: <c>AddTaskStore</c>, whose start
/// applies the schema's migrations). Dropped at the end.
/// </summary>
public sealed class StoreSchema : IAsyncLifetime
{
    public string Name { get; } = TestServers.NewIsolationName();
    public ServerEndpoints Servers { get; private set; } = null!;
    public NpgsqlDataSource Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Servers = await TestServers.GetAsync();
        Database = NpgsqlDataSource.Create(Servers.PostgresConnectionString);
    }

    public async Task DisposeAsync()
    {
        await TestServers.DropSchemaAsync(Servers, Name);
        await Database.DisposeAsync();
    }

    /// <summary>A host with the task store on this schema, built but not started.</summary>
    public IHost StartService()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TaskStore:ConnectionString"] = Servers.PostgresConnectionString,
            ["TaskStore:Schema"] = Name,
        });
        builder.AddTaskStore();
        return builder.Build();
    }
}
