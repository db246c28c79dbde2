using System.Diagnostics;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Faults;

/// <summary>
/// What a fault did to a set of tasks, read from the store: how many reached a terminal state, how many
/// were lost (never did), and how many ran twice (more than one claim, or more than one line of output
/// from a task that prints its id once).
/// </summary>
public sealed record FaultReport(string Fault, int Accepted, int Terminal, int Lost, int RunTwice, TimeSpan Recovery)
{
    public static async Task<FaultReport> WaitAsync(
        PlatformFixture platform, string fault, IReadOnlyCollection<Guid> tasks, Stopwatch sinceFault, TimeSpan timeout, ITestOutputHelper output)
    {
        var deadline = DateTime.UtcNow + timeout;
        (int Terminal, int Twice) counts;
        do
        {
            counts = await CountAsync(platform, tasks);
            if (counts.Terminal == tasks.Count) break;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);

        var report = new FaultReport(fault, tasks.Count, counts.Terminal, tasks.Count - counts.Terminal, counts.Twice, sinceFault.Elapsed);
        output.WriteLine($"{fault}: accepted {report.Accepted}, terminal {report.Terminal}, lost {report.Lost}, run twice {report.RunTwice}, recovered in {report.Recovery.TotalSeconds:F1} s");
        if (report.Lost > 0) output.WriteLine(platform.DescribeServices());
        return report;
    }

    private static async Task<(int Terminal, int Twice)> CountAsync(PlatformFixture platform, IReadOnlyCollection<Guid> tasks)
    {
        await using var database = platform.OpenDatabase();
        var schema = platform.Isolation;
        await using var command = database.CreateCommand(
            $"""
             select
               (select count(*) from {schema}.mt_doc_apptask where id = any($1) and data ->> 'State' in ('Succeeded', 'Failed')),
               (select count(*) from (select stream_id from {schema}.mt_events where stream_id = any($1) and type = 'task_claimed'
                                      group by stream_id having count(*) > 1) claimed_twice)
             + (select count(*) from (select task_id from {schema}.task_logs where task_id = any($1) and stream = 1
                                      group by task_id having count(*) > 1) printed_twice)
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = tasks.ToArray() });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
    }
}
