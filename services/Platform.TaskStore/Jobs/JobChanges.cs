using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.TaskStore.Jobs;

/// <summary>
/// Tells the Scheduler that jobs or schedules changed: a PostgreSQL NOTIFY after the change committed. The
/// Scheduler LISTENs and reloads at once instead of polling the tables; a notification lost to a crash
/// between commit and notify is caught by its periodic reload.
/// </summary>
public sealed class JobChanges(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    /// <summary>One channel per schema, so that deployments (and test fixtures) sharing a database stay apart.</summary>
    public string Channel { get; } = $"{options.Value.Schema}_job_changes";

    public async Task NotifyAsync(string job, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = Channel });
        command.Parameters.Add(new NpgsqlParameter { Value = job });
        await command.ExecuteNonQueryAsync(ct);
    }
}
