using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.TaskStore.Tasks;

/// <summary>A finished (succeeded or failed) task as retention sees it.</summary>
public sealed record FinishedTask(Guid Id, long SequenceId, DateTimeOffset FinishedAt);

/// <summary>An app's finished tasks, for retention to choose from: three fields per task, not the documents.</summary>
public sealed class FinishedTasks(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    private static readonly string SequenceId = $"CAST({DocumentFields.Text("t", nameof(AppTask.SequenceId))} as bigint)";

    /// <summary>When the task aliased <c>t</c> finished: its end, or its last change for one that ended before tasks recorded their end.</summary>
    internal static readonly string FinishedAt =
        $"CAST(coalesce({DocumentFields.Text("t", nameof(AppTask.EndedAt))}, {DocumentFields.Text("t", nameof(AppTask.UpdatedAt))}) as timestamptz)";

    // Found through the App index and sorted in PostgreSQL. A composite (App, SequenceId) index was tried:
    // the planner still chose the App index and a sort (9 ms for an app's 4,000 of 200,000 rows), so it was
    // not kept.
    private readonly string _sql =
        $"""
         select t.id, {SequenceId},
                {FinishedAt}
         from {options.Value.Schema}.{AppTask.TableName} t
         where t.{AppTask.AppColumn} = $1 and {DocumentFields.OneOf($"t.{AppTask.StateColumn}", TaskStateNames.Finished)}
         order by {SequenceId} desc
         """;

    /// <returns>The app's finished tasks, newest (highest sequence id) first.</returns>
    public async Task<List<FinishedTask>> ReadAsync(string app, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(_sql);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        var finished = new List<FinishedTask>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            finished.Add(new FinishedTask(reader.GetGuid(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
        return finished;
    }
}
