using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Npgsql;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// The shared PostgreSQL and RabbitMQ, and this run's own corner of each: a database of its own (so that
/// pg_stat_database counts only this run's statements, not other work on the same server) and a RabbitMQ
/// virtual host. Everything is created at the start and dropped at the end; the servers are not reconfigured.
/// </summary>
public sealed class BenchmarkServers : IAsyncDisposable
{
    // eng/benchmark.sh gives the run a PostgreSQL role that may create databases (the platform's own role may
    // not) and the RabbitMQ administrator eng/setup.sh generated; no well-known password is used.
    // Everything is on one machine: TLS over loopback would measure encryption, for every system alike.
    public static readonly string ServerConnection = $"{Required("PLATFORM_BENCHMARK_POSTGRES")};SSL Mode=Disable";

    /// <summary>The RabbitMQ user every system under test connects as, and which creates the virtual host.</summary>
    public static readonly string RabbitUser = Required("PLATFORM_BENCHMARK_RABBITMQ_USER");

    public static readonly string RabbitPassword = Required("PLATFORM_BENCHMARK_RABBITMQ_PASSWORD");
    private static readonly Uri RabbitManagement = new("http://127.0.0.1:15672/");

    private BenchmarkServers(string name) => Name = name;

    /// <summary>The database and the virtual host: both carry this name.</summary>
    public string Name { get; }

    /// <summary>
    /// Connections to this run's database. Pools are capped: the server's 100 connections are shared with
    /// other test runs on this machine.
    /// </summary>
    public string ConnectionString(int maxPool = 15, string application = "benchmark") =>
        $"{ServerConnection};Database={Name};Maximum Pool Size={maxPool};Application Name={application}";

    public NpgsqlDataSource OpenDatabase() => NpgsqlDataSource.Create(ConnectionString(8));

    public static async Task<BenchmarkServers> CreateAsync()
    {
        var servers = new BenchmarkServers("bench_" + Guid.NewGuid().ToString("N")[..10]);
        await using (var admin = NpgsqlDataSource.Create($"{ServerConnection};Database=postgres"))
        await using (var create = admin.CreateCommand($"create database {servers.Name}"))
            await create.ExecuteNonQueryAsync();
        using var rabbit = Management();
        (await rabbit.PutAsync($"api/vhosts/{servers.Name}", null)).EnsureSuccessStatusCode();
        (await rabbit.PutAsJsonAsync($"api/permissions/{servers.Name}/{Uri.EscapeDataString(RabbitUser)}", new { configure = ".*", write = ".*", read = ".*" }))
            .EnsureSuccessStatusCode();
        return servers;
    }

    /// <summary>
    /// Transactions committed or rolled back in this run's database so far. Read from the server's
    /// maintenance database so that reading it does not count itself. Every statement outside an explicit
    /// transaction is one transaction; a batch in one transaction (Marten's SaveChanges) is one.
    /// </summary>
    public async Task<long> TransactionsSoFarAsync()
    {
        await using var admin = NpgsqlDataSource.Create($"{ServerConnection};Database=postgres;Pooling=false");
        await using var command = admin.CreateCommand("select xact_commit + xact_rollback from pg_stat_database where datname = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = Name });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Drops Platform's store once its services are stopped, and flushes what the drop and the bulk work before it
    /// left to write. A statement of a stopped service may still be running on the server; it would hold the drop
    /// and load the next system's run, so the services' sessions are ended first (this process's own, named
    /// "benchmark", stay; an autovacuum worker, which this role may not signal, gives way to the drop by itself).
    /// </summary>
    public async Task DropPlatformStoreAsync()
    {
        await using var admin = NpgsqlDataSource.Create($"{ServerConnection};Database=postgres");
        await EndSessionsAsync(admin, exceptApplication: "benchmark");
        await using var database = NpgsqlDataSource.Create(ConnectionString(1));
        await using (var drop = database.CreateCommand("drop schema if exists platform cascade"))
        {
            drop.CommandTimeout = 300;
            await drop.ExecuteNonQueryAsync();
        }
        // The seeding and the pruning wrote gigabytes of WAL, and the server went on writing checkpoints for
        // minutes after (into the first peer's run); one checkpoint now, waited for, flushes what is left.
        await using var checkpoint = database.CreateCommand("checkpoint");
        checkpoint.CommandTimeout = 300;
        await checkpoint.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        using (var rabbit = Management()) await rabbit.DeleteAsync($"api/vhosts/{Name}");
        await using var admin = NpgsqlDataSource.Create($"{ServerConnection};Database=postgres");
        // Not WITH (FORCE): that refuses when an autovacuum worker is in the database, which this role may not
        // signal. The run's own sessions are ended instead, and DROP DATABASE stops autovacuum itself. A session
        // can still be there at the drop (one run's ended with "being accessed by other users"): ended again, tried again.
        for (var attempt = 1; ; attempt++)
        {
            await EndSessionsAsync(admin, exceptApplication: null);
            // A statement of its own: DROP DATABASE may not run in the implicit transaction of a batch.
            await using var drop = admin.CreateCommand($"drop database if exists {Name}");
            try
            {
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>Ends this role's client sessions in the run's database (waiting up to 5 s for each), but those of <paramref name="exceptApplication"/>.</summary>
    private async Task EndSessionsAsync(NpgsqlDataSource admin, string? exceptApplication)
    {
        await using var end = admin.CreateCommand(
            """
            select pg_terminate_backend(pid, 5000) from pg_stat_activity
            where datname = $1 and backend_type = 'client backend' and usename = current_user and application_name is distinct from $2
            """);
        end.Parameters.Add(new NpgsqlParameter { Value = Name });
        end.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = exceptApplication });
        await end.ExecuteNonQueryAsync();
    }

    private static HttpClient Management()
    {
        var client = new HttpClient { BaseAddress = RabbitManagement };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RabbitUser}:{RabbitPassword}")));
        return client;
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the benchmark through eng/benchmark.sh, which creates the run's credentials.");
}
