using Npgsql;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// A stand-in for pg_stat_statements, which the shared server does not load (loading it needs a restart):
/// samples pg_stat_activity of this run's database every few milliseconds and counts, per application
/// (each service connects under its own name) and statement text, every statement a backend started
/// since the previous sample. Statements that start and end between two samples of the same backend are
/// missed, so the counts are lower bounds; they show where the statements come from, not how many there are.
/// </summary>
public sealed class StatementSampler(string database, string serverConnection)
{
    public async Task<IReadOnlyList<(string Application, string Statement, int Seen)>> SampleAsync(TimeSpan window)
    {
        await using var source = NpgsqlDataSource.Create($"{serverConnection};Database=postgres");
        await using var connection = await source.OpenConnectionAsync();
        var lastStart = new Dictionary<int, DateTime>();
        var seen = new Dictionary<(string, string), int>();
        var windowStart = DateTime.UtcNow;
        var until = windowStart + window;
        while (DateTime.UtcNow < until)
        {
            await using (var command = new NpgsqlCommand(
                "select pid, coalesce(application_name, ''), query_start, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) from pg_stat_activity where datname = $1 and query_start is not null",
                connection))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = database });
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var (pid, application, started, query) = (reader.GetInt32(0), reader.GetString(1), reader.GetDateTime(2), reader.GetString(3));
                    if (lastStart.TryGetValue(pid, out var previous) && previous == started) continue;
                    var first = !lastStart.ContainsKey(pid);
                    lastStart[pid] = started;
                    if (first && started < windowStart) continue; // a statement from before the window
                    seen[(application, query)] = seen.GetValueOrDefault((application, query)) + 1;
                }
            }
            await Task.Delay(5);
        }
        return seen.OrderByDescending(s => s.Value).Select(s => (s.Key.Item1, s.Key.Item2, s.Value)).ToList();
    }
}
