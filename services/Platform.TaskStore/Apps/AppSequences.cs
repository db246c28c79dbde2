using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Platform.TaskStore.Apps;

/// <summary>
/// Hands out each app's task sequence ids (1, 2, 3 ...). One atomic upsert per task, so two writers never
/// get the same number and a number is never reused, even after its task is deleted.
/// </summary>
public sealed class AppSequences(NpgsqlDataSource dataSource, Microsoft.Extensions.Options.IOptions<TaskStoreOptions> options)
{
    private readonly string _sql =
        $"""
         insert into {options.Value.Schema}.{AppSequenceTable.Name} as s (app, last_sequence_id) values ($1, $2)
         on conflict (app) do update set last_sequence_id = s.last_sequence_id + $2
         returning last_sequence_id
         """;

    public Task<long> NextAsync(string app, CancellationToken cancellationToken) => NextRangeAsync(app, 1, cancellationToken);

    /// <summary>Reserves <paramref name="count"/> consecutive ids in one statement; returns the first.</summary>
    public async Task<long> NextRangeAsync(string app, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        await using var command = dataSource.CreateCommand(_sql);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)count });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! - count + 1;
    }
}

internal static class AppSequenceTable
{
    public const string Name = "app_task_sequences";

    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, Name, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("app").AsPrimaryKey();
        table.AddColumn<long>("last_sequence_id").NotNull();
        return table;
    }
}
