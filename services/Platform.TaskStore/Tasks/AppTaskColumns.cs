using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// Adds <see cref="AppTask"/>'s duplicated columns to a store written before they existed, and fills them in
/// from the documents, before Marten's own start-up migration looks at the schema. Marten would do it too,
/// but with one full-table UPDATE per column, each bound by the connection's command timeout (30 s): on
/// 200,000 tasks that ran out, and Marten, told to carry on after a failed migration
/// (<c>ResourceMigrationFailureMode.ContinueOnFailures</c>), started the service without the columns its
/// queries need. Here it is one UPDATE for all of them, without a time limit; Marten then finds the columns
/// and only adds their indexes. A store that has the columns (or no tasks table yet) costs one catalogue query.
/// </summary>
internal sealed class AppTaskColumns(NpgsqlDataSource dataSource, IOptions<TaskStoreOptions> options, ILogger<AppTaskColumns> logger)
    : IHostedService
{
    /// <summary>Each duplicated column, with the JSON field it copies (both as Marten names them: see <see cref="AppTask.StateColumn"/>).</summary>
    public static readonly IReadOnlyList<(string Column, string Field)> Duplicated =
    [
        (AppTask.StateColumn, nameof(AppTask.State)), (AppTask.SpaceColumn, nameof(AppTask.Space)), (AppTask.JobColumn, nameof(AppTask.Job)),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await AddMissingAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            // As Marten's own migration does here (ContinueOnFailures): a service that starts while the
            // database is away still starts; the next start adds the columns.
            logger.LogError(ex, "Could not add the missing columns of {Table}; continuing the start", AppTask.TableName);
        }
    }

    private async Task AddMissingAsync(CancellationToken cancellationToken)
    {
        var schema = options.Value.Schema;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var missing = await MissingAsync(connection, schema, cancellationToken);
        if (missing.Count == 0) return;

        var clock = Stopwatch.StartNew();
        var table = $"{schema}.{AppTask.TableName}";
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The ALTER holds the table until the commit, so a second service starting meanwhile waits here and
        // then finds nothing left to fill in.
        await using var command = new NpgsqlCommand(
            $"""
             alter table {table} {string.Join(", ", missing.Select(c => $"add column if not exists {c.Column} varchar"))};
             update {table} t set {string.Join(", ", missing.Select(c => $"{c.Column} = {DocumentFields.Text("t", c.Field)}"))}
             where t.{missing[0].Column} is null
             """, connection, transaction) { CommandTimeout = 0 };
        var filled = await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Added the columns {Columns} to {Table} and filled them in for {Tasks} existing tasks in {Seconds:F1} s",
            string.Join(", ", missing.Select(c => c.Column)), table, filled, clock.Elapsed.TotalSeconds);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The duplicated columns the tasks table lacks; none when there is no tasks table yet (Marten makes it whole).</summary>
    private static async Task<List<(string Column, string Field)>> MissingAsync(NpgsqlConnection connection, string schema, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select column_name from information_schema.columns where table_schema = $1 and table_name = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = schema });
        command.Parameters.Add(new NpgsqlParameter { Value = AppTask.TableName });
        var present = new HashSet<string>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) present.Add(reader.GetString(0));
        return present.Count == 0 ? [] : Duplicated.Where(c => !present.Contains(c.Column)).ToList();
    }
}
