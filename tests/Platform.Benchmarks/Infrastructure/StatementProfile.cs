using System.Text;
using Npgsql;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// Which statements a piece of work cost PostgreSQL, from pg_stat_statements (loaded by eng/setup.sh):
/// calls and execution time per unit of work (a task), busiest first. Counts only this run's database.
/// </summary>
public sealed class StatementProfile
{
    private readonly BenchmarkServers _servers;

    private StatementProfile(BenchmarkServers servers) => _servers = servers;

    /// <summary>Starts counting from zero; null when the server does not have pg_stat_statements loaded.</summary>
    public static async Task<StatementProfile?> StartAsync(BenchmarkServers servers)
    {
        try
        {
            await using var database = NpgsqlDataSource.Create(servers.ConnectionString(1));
            await using (var create = database.CreateCommand("create extension if not exists pg_stat_statements")) await create.ExecuteNonQueryAsync();
            await using (var reset = database.CreateCommand("select pg_stat_statements_reset()")) await reset.ExecuteNonQueryAsync();
            return new StatementProfile(servers);
        }
        catch (PostgresException ex)
        {
            Console.WriteLine($"  (no statement profile: {ex.MessageText})");
            return null;
        }
    }

    /// <summary>The <paramref name="top"/> statements by calls, per unit, with their share of execution time.</summary>
    public async Task<string> DescribeAsync(double units, int top = 12)
    {
        await using var database = NpgsqlDataSource.Create(_servers.ConnectionString(1));
        await using var command = database.CreateCommand(
            """
            select calls, total_exec_time, query from pg_stat_statements s join pg_database d on d.oid = s.dbid
            where d.datname = $1 and query not ilike '%pg_stat_statements%'
            order by calls desc
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = _servers.Name });
        var rows = new List<(long Calls, double Ms, string Query)>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), reader.GetDouble(1), reader.GetString(2)));
        var totalMs = rows.Sum(r => r.Ms);
        var text = new StringBuilder($"{rows.Sum(r => r.Calls) / units:0.0} statements and {totalMs / units:0.00} ms of execution per task; busiest:");
        foreach (var (calls, ms, query) in rows.Take(top))
            text.Append($"\n    {calls / units,5:0.00}/task {ms / units,6:0.000} ms  {Shorten(query)}");
        return text.ToString();
    }

    private static string Shorten(string query)
    {
        var flat = string.Join(' ', query.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 150 ? flat : flat[..150] + "…";
    }
}
