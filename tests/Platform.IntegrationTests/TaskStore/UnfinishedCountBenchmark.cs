using System.Diagnostics;
using Marten;
using Marten.Linq;
using Marten.Linq.MatchesSql;
using Platform.TaskStore.Apps;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore;
using Platform.TaskStore.Tasks;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.TaskStore;

/// <summary>
/// What the per-POST limit check (an app's and its space's unfinished tasks) costs on 200,000 tasks, 1 % of
/// them unfinished: the two LINQ counts on the JSON as the Api ran them before the state and space columns,
/// then, after the migration a service's start applies, <see cref="UnfinishedTaskCounts"/> on the columns and
/// their partial indexes. Prints the plans (EXPLAIN ANALYZE; after, also the generic plan a prepared
/// statement gets) and the mean of many runs.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class UnfinishedCountBenchmark(StoreSchema storeSchema, ITestOutputHelper output) : IClassFixture<StoreSchema>
{
    private const int Apps = 20, TasksPerApp = 10_000, Spaces = 2, UnfinishedPerApp = 100, Runs = 200;
    [BenchmarkFact]
    public async Task Counting_an_apps_and_its_spaces_unfinished_tasks_among_200000()
    {
        const string app = "app-7", space = "space-1";
        await using (var before = DocumentStore.For(store => DuplicatedColumnsTests.ShapeBeforeTheColumns(store, storeSchema.Servers.PostgresConnectionString, storeSchema.Name)))
        {
            await before.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            var at = DateTimeOffset.UtcNow;
            var tasks = Enumerable.Range(0, Apps * TasksPerApp).Select(n => new AppTask
            {
                Id = Guid.CreateVersion7(), App = $"app-{n % Apps}", Space = $"space-{n % Apps % Spaces}", SequenceId = n / Apps + 1,
                Name = $"task-{n}", Command = "true", MemoryInMb = 256, DiskInMb = 1024, CreatedAt = at, UpdatedAt = at,
                State = n / Apps < UnfinishedPerApp ? (TaskState)(n % 3) : n % 10 == 0 ? TaskState.Failed : TaskState.Succeeded,
            }).ToList();
            await before.BulkInsertAsync(tasks, batchSize: 10_000);
            await AnalyzeAsync();

            // The Api's two counts as they were: Marten's LINQ over the JSON (App had its column already).
            await using var session = before.QuerySession();
            var ofApp = session.Query<AppTask>().Where(t => t.App == app
                && (t.State == TaskState.Pending || t.State == TaskState.Running || t.State == TaskState.Canceling)).ToCommand(FetchType.Count);
            var ofSpace = session.Query<AppTask>().Where(t => t.Space == space
                && (t.State == TaskState.Pending || t.State == TaskState.Running || t.State == TaskState.Canceling)).ToCommand(FetchType.Count);
            await ExplainAsync("before, the app's count (LINQ on the JSON)", ofApp);
            await ExplainAsync("before, the space's count (LINQ on the JSON)", ofSpace);
            var mean = await MeanAsync(async () =>
            {
                var batch = session.CreateBatchQuery();
                var a = batch.Query<AppTask>().Where(t => t.App == app
                    && (t.State == TaskState.Pending || t.State == TaskState.Running || t.State == TaskState.Canceling)).Count();
                var s = batch.Query<AppTask>().Where(t => t.Space == space
                    && (t.State == TaskState.Pending || t.State == TaskState.Running || t.State == TaskState.Canceling)).Count();
                await batch.Execute();
                Assert.Equal(((long)UnfinishedPerApp, (long)UnfinishedPerApp * Apps / Spaces), ((long)await a, (long)await s));
            });
            output.WriteLine($"before: both counts in one batch, mean of {Runs}: {mean:F2} ms");
        }

        var migration = Stopwatch.StartNew();
        using var host = storeSchema.StartService();
        await host.StartAsync();
        output.WriteLine($"migration at start-up (columns added and back-filled, indexes made) for {Apps * TasksPerApp:N0} tasks: {migration.Elapsed.TotalSeconds:F1} s");
        await AnalyzeAsync();

        var store = host.Services.GetRequiredService<IDocumentStore>();
        await using (var session = store.QuerySession())
        {
            var ofApp = session.Query<AppTask>().Where(t => t.App == app && t.MatchesSql(UnfinishedTaskCounts.Predicate("d"))).ToCommand(FetchType.Count);
            var ofSpace = session.Query<AppTask>().Where(t => t.Space == space && t.MatchesSql(UnfinishedTaskCounts.Predicate("d"))).ToCommand(FetchType.Count);
            foreach (var generic in new[] { false, true })
            {
                var how = generic ? "generic plan, as a prepared statement may get" : "custom plan";
                Assert.Contains("mt_doc_apptask_idx_app_unfinished", await ExplainAsync($"after, the app's count (UnfinishedTaskCounts), {how}", ofApp, generic));
                Assert.Contains("mt_doc_apptask_idx_space", await ExplainAsync($"after, the space's count (UnfinishedTaskCounts), {how}", ofSpace, generic));
            }
            var counted = new App { Name = app, Space = space };
            var meanAfter = await MeanAsync(async () =>
                Assert.Equal(new UnfinishedTaskCounts(UnfinishedPerApp, UnfinishedPerApp * Apps / Spaces), await UnfinishedTaskCounts.OfAsync(session, counted, CancellationToken.None)));
            output.WriteLine($"after: both counts in one batch, mean of {Runs}: {meanAfter:F2} ms");
        }

        // The other queries that look for unfinished tasks by state use the small partial indexes too.
        await using var orphans = storeSchema.Database.CreateCommand(
            $"select t.id from {storeSchema.Name}.{AppTask.TableName} t where t.{AppTask.StateColumn} in ('Running', 'Canceling') limit 1000");
        Assert.Contains("Index", await ExplainAsync("after, running and canceling tasks (the orphan search's filter)", orphans));
    }

    private async Task AnalyzeAsync()
    {
        await using var analyze = storeSchema.Database.CreateCommand($"vacuum analyze {storeSchema.Name}.{AppTask.TableName}");
        await analyze.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// EXPLAIN ANALYZE of <paramref name="query"/>; <paramref name="generic"/>: of the plan a prepared statement
    /// gets when PostgreSQL plans it once for any parameter (the query's one parameter is Marten's <c>:p0</c>).
    /// </summary>
    private async Task<string> ExplainAsync(string what, NpgsqlCommand query, bool generic = false)
    {
        await using var connection = await storeSchema.Database.OpenConnectionAsync();
        var text = "explain (analyze, buffers) " + query.CommandText;
        if (generic)
        {
            await using var prepare = new NpgsqlCommand(
                $"set plan_cache_mode = force_generic_plan; prepare counted as {query.CommandText.TrimEnd(';').Replace(":p0", "$1")}", connection);
            await prepare.ExecuteNonQueryAsync();
            text = $"explain (analyze, buffers) execute counted('{query.Parameters[0].Value}')";
        }
        await using var explain = new NpgsqlCommand(text, connection);
        if (!generic) foreach (NpgsqlParameter parameter in query.Parameters) explain.Parameters.Add(parameter.Clone());
        var lines = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        var plan = string.Join('\n', lines);
        output.WriteLine($"--- {what}\n{query.CommandText}\n{plan}\n");
        return plan;
    }

    /// <returns>The mean time of <paramref name="run"/> in milliseconds, over <see cref="Runs"/> runs after 20 to warm up.</returns>
    private static async Task<double> MeanAsync(Func<Task> run)
    {
        for (var i = 0; i < 20; i++) await run();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Runs; i++) await run();
        return clock.Elapsed.TotalMilliseconds / Runs;
    }
}
