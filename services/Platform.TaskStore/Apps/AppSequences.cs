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
         insert into {options.Value.Schema}.{AppSequenceTable.Name} as s (app, last_sequence_id) values ($1, 1)
         on conflict (app) do update set last_sequence_id = s.last_sequence_id + 1
         returning last_sequence_id
         """;

    public async Task<long> NextAsync(string app, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_sql);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
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
