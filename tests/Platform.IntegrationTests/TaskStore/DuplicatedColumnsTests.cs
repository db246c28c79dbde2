using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Leases;
using Platform.TaskStore.Tasks;
using Weasel.Core;
using Weasel.Postgresql;

namespace Platform.IntegrationTests.TaskStore;

/// <summary>
/// A store written before <c>AppTask</c>'s state, space and job had columns of their own is migrated by a
/// service's start (Marten's schema changes, applied by <c>AddTaskStore</c>): the columns are filled in for
/// every existing row, and the store's queries, which now filter on them, find those rows.
/// </summary>
public sealed class DuplicatedColumnsTests(StoreSchema storeSchema) : IClassFixture<StoreSchema>
{
    private const string Executor = "executor-before";

    [Fact]
    public async Task Tasks_written_before_the_columns_existed_are_found_by_them_after_a_start()
    {
        var now = DateTimeOffset.UtcNow;
        var tasks = new (Guid Id, string App, string Space, string? Job, TaskState State)[]
        {
            (Guid.CreateVersion7(), "app-a", "space-1", null, TaskState.Pending),
            (Guid.CreateVersion7(), "app-a", "space-1", "job-1", TaskState.Running),
            (Guid.CreateVersion7(), "app-a", "space-1", null, TaskState.Canceling),
            (Guid.CreateVersion7(), "app-a", "space-1", "job-1", TaskState.Succeeded),
            (Guid.CreateVersion7(), "app-a", "space-1", null, TaskState.Failed),
            (Guid.CreateVersion7(), "app-b", "space-1", null, TaskState.Running),
            (Guid.CreateVersion7(), "app-c", "space-2", null, TaskState.Pending),
        };
        await using (var before = DocumentStore.For(ShapeBeforeTheColumns))
        {
            await before.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            await using var session = before.LightweightSession();
            var sequence = 0;
            foreach (var task in tasks)
                session.Events.StartStream<AppTask>(task.Id, Events(task.Id, task.App, task.Space, task.Job, task.State, ++sequence, now).ToArray());
            await session.SaveChangesAsync();
        }
        Assert.False(await ColumnExistsAsync(AppTask.StateColumn));

        using var host = storeSchema.StartService();
        await host.StartAsync();

        // Every row has its columns, filled in from its document.
        foreach (var task in tasks)
        {
            await using var row = storeSchema.Database.CreateCommand(
                $"select {AppTask.StateColumn}, {AppTask.SpaceColumn}, {AppTask.JobColumn}, {AppTask.AppColumn} from {storeSchema.Name}.{AppTask.TableName} where id = $1");
            row.Parameters.Add(new NpgsqlParameter { Value = task.Id });
            await using var reader = await row.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(task.State.ToString(), reader.GetString(0));
            Assert.Equal(task.Space, reader.GetString(1));
            Assert.Equal(task.Job, reader.IsDBNull(2) ? null : reader.GetString(2));
            Assert.Equal(task.App, reader.GetString(3));
        }

        // The store's own queries, on the columns, find the old rows.
        var services = host.Services;
        Assert.Equal(new UnfinishedTaskCounts(3, 4), await CountsAsync(services, "app-a", "space-1"));
        Assert.Equal(new UnfinishedTaskCounts(1, 1), await CountsAsync(services, "app-c", "space-2"));
        Assert.Equal(tasks.Where(t => t.App == "app-a" && t.State.IsTerminal()).Select(t => t.Id).Order(),
            (await services.GetRequiredService<FinishedTasks>().ReadAsync("app-a", CancellationToken.None)).Select(f => f.Id).Order());
        Assert.Equal(tasks.Where(t => t.State is TaskState.Running or TaskState.Canceling).Select(t => t.Id).Order(),
            (await services.GetRequiredService<ExecutorLeases>().FindLeftBehindAsync(Executor, now.AddMinutes(1), CancellationToken.None)).Select(o => o.TaskId).Order());
        await using (var query = services.GetRequiredService<IDocumentStore>().QuerySession())
        {
            // Marten's LINQ reads the columns too (a job's tasks, the re-dispatcher's pending tasks).
            Assert.Equal(2, await query.Query<AppTask>().CountAsync(t => t.Job == "job-1"));
            Assert.Equal(2, await query.Query<AppTask>().CountAsync(t => t.State == TaskState.Pending));
        }

        // A task written now keeps its columns in step as its state changes.
        var later = Guid.CreateVersion7();
        await using (var session = services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            session.Events.StartStream<AppTask>(later, Events(later, "app-c", "space-2", null, TaskState.Running, 9, now).ToArray());
            await session.SaveChangesAsync();
        }
        Assert.Equal(new UnfinishedTaskCounts(2, 2), await CountsAsync(services, "app-c", "space-2"));
        await using (var session = services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            session.Events.Append(later, new TaskSucceeded(later, 0, now));
            await session.SaveChangesAsync();
        }
        Assert.Equal(new UnfinishedTaskCounts(1, 1), await CountsAsync(services, "app-c", "space-2"));

        await host.StopAsync();

        // The migration is done once: the next start finds the schema as configured (the partial indexes'
        // conditions included) and changes nothing.
        using var second = storeSchema.StartService();
        var migration = await second.Services.GetRequiredService<IDocumentStore>().Storage.Database.CreateMigrationAsync();
        var changes = new StringWriter();
        migration.WriteAllUpdates(changes, new PostgresqlMigrator(), AutoCreate.CreateOrUpdate);
        Assert.True(migration.Difference == SchemaPatchDifference.None, $"a second start would change the schema:\n{changes}");
    }

    // Both ways of counting: for a known app, and with the app read in the same round trip (the Api's create).
    private static async Task<UnfinishedTaskCounts> CountsAsync(IServiceProvider services, string app, string space)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        await using var query = store.QuerySession();
        if (await query.LoadAsync<App>(app) is null)
        {
            await using var session = store.LightweightSession();
            session.Insert(new App { Name = app, Space = space });
            await session.SaveChangesAsync();
        }
        var counts = await UnfinishedTaskCounts.OfAsync(query, new App { Name = app, Space = space }, CancellationToken.None);
        var (read, withApp) = await UnfinishedTaskCounts.WithAppAsync(query, app, CancellationToken.None);
        Assert.Equal(space, read?.Space);
        Assert.Equal(counts, withApp);
        return counts;
    }

    private async Task<bool> ColumnExistsAsync(string column)
    {
        await using var command = storeSchema.Database.CreateCommand(
            "select exists (select 1 from information_schema.columns where table_schema = $1 and table_name = $2 and column_name = $3)");
        command.Parameters.Add(new NpgsqlParameter { Value = storeSchema.Name });
        command.Parameters.Add(new NpgsqlParameter { Value = AppTask.TableName });
        command.Parameters.Add(new NpgsqlParameter { Value = column });
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    private void ShapeBeforeTheColumns(StoreOptions store) => ShapeBeforeTheColumns(store, storeSchema.Servers.PostgresConnectionString, storeSchema.Name);

    /// <summary>The task store's Marten configuration as it was before state, space and job had columns (main, 2026-12-01).</summary>
    internal static void ShapeBeforeTheColumns(StoreOptions store, string connectionString, string schema)
    {
        store.Connection(connectionString);
        store.DatabaseSchemaName = schema;
        store.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        store.UseSystemTextJsonForSerialization(EnumStorage.AsString);
        store.Events.StreamIdentity = StreamIdentity.AsGuid;
        store.Events.MetadataConfig.CorrelationIdEnabled = true;
        store.Events.MetadataConfig.CausationIdEnabled = true;
        store.Events.MetadataConfig.UserNameEnabled = true;
        store.Projections.Add<AppTaskProjection>(ProjectionLifecycle.Inline);
        store.Schema.For<AppTask>()
            .Duplicate(x => x.App)
            .Index(x => x.State)
            .Index(x => x.Job)
            .Index(new System.Linq.Expressions.Expression<Func<AppTask, object>>[] { x => x.App, x => x.SequenceId },
                index => index.Name = "mt_doc_apptask_idx_app_sequence");
    }

    private static IEnumerable<object> Events(Guid id, string app, string space, string? job, TaskState state, long sequence, DateTimeOffset at)
    {
        yield return new TaskAccepted(id, app, sequence, $"task-{sequence}", "true", 256, 1024, new Dictionary<string, string>(), at,
            Origin: job is null ? null : new TaskOrigin(job, null, null), Space: space);
        if (state == TaskState.Pending) yield break;
        yield return new TaskClaimed(id, Executor, at);
        if (state == TaskState.Canceling) yield return new TaskCancelRequested(id, "test", at);
        if (state == TaskState.Succeeded) yield return new TaskSucceeded(id, 0, at);
        if (state == TaskState.Failed) yield return new TaskFailed(id, 1, "exited with code 1", at);
    }
}
