using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// How many unfinished tasks an app and its space hold: the Api asks before accepting every task (the limits
/// per app and per space). Both counts read partial indexes that hold unfinished tasks only
/// (<see cref="Predicate"/>), so their cost follows the tasks in flight, not an app's whole history.
/// </summary>
public sealed class UnfinishedTasks(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options)
{
    /// <summary>
    /// The condition of the partial indexes on unfinished tasks, as the store's schema declares them. A query
    /// that means to use one writes exactly this (a literal list: with a parameter PostgreSQL could not prove
    /// that the query's rows are in the index), and "not in the finished states" also serves queries for
    /// single unfinished states (RUNNING, PENDING ...), which imply it.
    /// </summary>
    public static string Predicate(string? alias = null) =>
        DocumentFields.NoneOf(alias is null ? AppTask.StateColumn : $"{alias}.{AppTask.StateColumn}", TaskStateNames.Finished);

    private readonly string _sql =
        $"""
         select (select count(*) from {options.Value.Schema}.{AppTask.TableName} t where t.{AppTask.AppColumn} = $1 and {Predicate("t")}),
                (select count(*) from {options.Value.Schema}.{AppTask.TableName} t where t.{AppTask.SpaceColumn} = $2 and {Predicate("t")})
         """;

    /// <returns>The unfinished tasks of <paramref name="app"/>, and of <paramref name="space"/>, in one round trip.</returns>
    public async Task<(long OfApp, long OfSpace)> CountAsync(string app, string space, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(_sql);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        command.Parameters.Add(new NpgsqlParameter { Value = space });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
