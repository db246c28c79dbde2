using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.TaskStore.Apps;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// The apps a retention sweep has to look at, found in one statement, so that a sweep costs one read of
/// the finished tasks' rows rather than a prune (a lock, the app, every finished task) per app: with
/// ten thousand apps that was ten thousand prunes a minute for nothing.
/// </summary>
public sealed class RetentionCandidates(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private readonly string _schema = options.Value.Schema;

    /// <summary>
    /// Every app with limits of its own (whatever they are), and every other app with more finished tasks
    /// than <paramref name="maxTasks"/>, one finished before <paramref name="finishedBefore"/> (the age
    /// limit, when there is one), or one finished since <paramref name="finishedSince"/> (whose output
    /// may not have been capped yet, when output is capped).
    /// </summary>
    public async Task<List<string>> ReadAsync(int maxTasks, DateTimeOffset? finishedBefore, DateTimeOffset? finishedSince, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand();
        command.Parameters.Add(new NpgsqlParameter { Value = (long)maxTasks });
        // Only the conditions in force: each of the others would read every finished task's JSON for its time.
        var having = "count(*) > $1";
        if (finishedBefore is { } before)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = before });
            having += $" or min({FinishedTasks.FinishedAt}) < ${command.Parameters.Count}";
        }
        if (finishedSince is { } since)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = since });
            having += $" or max({FinishedTasks.FinishedAt}) >= ${command.Parameters.Count}";
        }
        command.CommandText =
            $"""
             select t.{AppTask.AppColumn} from {_schema}.{AppTask.TableName} t
             where {DocumentFields.OneOf($"t.{AppTask.StateColumn}", TaskStateNames.Finished)}
             group by t.{AppTask.AppColumn}
             having {having}
             union
             select a.id from {_schema}.{App.TableName} a where jsonb_typeof(a.data -> '{nameof(App.Retention)}') = 'object'
             """;
        var apps = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) apps.Add(reader.GetString(0));
        return apps;
    }
}
