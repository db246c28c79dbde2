using System.Linq.Expressions;
using JasperFx;
using Weasel.Core;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Leases;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.TaskStore;

public static class TaskStoreRegistration
{
    /// <summary>
    /// Marten over PostgreSQL with the platform's conventions: a stream per task keyed by its id, the
    /// <see cref="AppTask"/> read model projected inline (so a read after a write sees it, and no async
    /// daemon is needed), apps, jobs and their schedules as documents, and the log and sequence tables beside them.
    /// </summary>
    public static IHostApplicationBuilder AddTaskStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TaskStoreOptions>()
            .Bind(builder.Configuration.GetSection(TaskStoreOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TaskStoreOptions>>().Value;
            var dataSource = new NpgsqlDataSourceBuilder(options.ConnectionString);
            dataSource.ConnectionStringBuilder.ApplicationName ??= builder.Environment.ApplicationName;
            TuneForSmallStatements(dataSource.ConnectionStringBuilder, options.ConnectionString);
            return dataSource.Build();
        });

        builder.Services.AddMarten(sp =>
            {
                var options = sp.GetRequiredService<IOptions<TaskStoreOptions>>().Value;
                var store = new StoreOptions();
                store.Connection(sp.GetRequiredService<NpgsqlDataSource>());
                ConfigureStore(store, options.Schema);
                return store;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup();

        builder.Services.AddSingleton<TaskLogStore>();
        builder.Services.AddSingleton<AppSequences>();
        builder.Services.AddSingleton<TaskDeletion>();
        builder.Services.AddSingleton<ExecutorLeases>();
        builder.Services.AddSingleton<TaskCancellation>();
        builder.Services.AddSingleton<JobGuard>();
        builder.Services.AddSingleton<JobChanges>();
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgresql", tags: ["ready"]);
        return builder;
    }

    /// <summary>
    /// A task costs about a dozen short statements, the same ones every time. Prepared once per connection
    /// they skip parsing and planning, and a pooled connection is not reset (DISCARD ALL, which also drops
    /// the prepared statements) each time it is returned. Nothing here keeps session state between uses:
    /// the one session-level advisory lock (Retention) is released explicitly. A connection string that sets
    /// either option wins.
    /// </summary>
    private static void TuneForSmallStatements(NpgsqlConnectionStringBuilder tuned, string given)
    {
        // Npgsql's own builder knows every keyword, so only a plain parse tells what the string itself sets.
        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = given }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "")).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!keys.Contains("MaxAutoPrepare")) tuned.MaxAutoPrepare = 64;
        if (!keys.Contains("NoResetOnClose")) tuned.NoResetOnClose = true;
    }

    /// <summary>
    /// The store's shape: schema, serialization, event types, projections, indexes and the extra tables.
    /// Public so that a tool or test that writes to the store directly (seeding history) uses exactly the
    /// services' settings.
    /// </summary>
    /// <summary>A stable id per schema name (FNV-1a; string.GetHashCode differs between processes).</summary>
    internal static int SchemaLockId(string schema)
    {
        var hash = 2166136261u;
        foreach (var c in "platform-migrations:" + schema) hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }

    public static void ConfigureStore(StoreOptions store, string schema)
    {
        store.DatabaseSchemaName = schema;
        store.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        // Marten's start-up migration takes a PostgreSQL advisory lock whose id is the same constant for every
        // store: stores of other schemas in the same database (test fixtures side by side) waited on each
        // other's migrations until start-up failed ("Unable to attain the global lock"). One lock per schema.
        store.ApplyChangesLockId = SchemaLockId(schema);
        // Enums as names, so that SQL over the documents reads 'Succeeded', not 3.
        store.UseSystemTextJsonForSerialization(EnumStorage.AsString);
        store.Events.StreamIdentity = StreamIdentity.AsGuid;
        // Marten stores an event's type name; these aliases keep stored history readable if a class moves.
        store.Events.AddEventType<TaskAccepted>();
        store.Events.AddEventType<TaskClaimed>();
        store.Events.AddEventType<TaskCancelRequested>();
        store.Events.AddEventType<TaskRedispatched>();
        store.Events.AddEventType<TaskRequeued>();
        store.Events.AddEventType<TaskSucceeded>();
        store.Events.AddEventType<TaskFailed>();
        store.Events.MetadataConfig.CorrelationIdEnabled = true;
        store.Events.MetadataConfig.CausationIdEnabled = true;
        store.Projections.Add<AppTaskProjection>(ProjectionLifecycle.Inline);
        store.Schema.For<AppTask>()
            // A column of its own (AppTask.AppColumn), kept in step by Marten: counting an app's tasks
            // (every list page) reads the column's index alone, where an index on the JSON expression made
            // PostgreSQL read and unpack every one of the app's documents (1.8 ms for 3,300 tasks).
            .Duplicate(x => x.App)
            .Index(x => x.State)
            .Index(x => x.Job)
            // An app's tasks newest first (GET /v3/apps/{app}/tasks) read one page of this index, not
            // every task of the app sorted: 13 ms -> 0.1 ms for an app of 3,300 tasks (docs/benchmarks.md).
            .Index(new Expression<Func<AppTask, object>>[] { x => x.App, x => x.SequenceId },
                index => index.Name = "mt_doc_apptask_idx_app_sequence");
        // Optimistic concurrency: two PATCHes of one app never silently overwrite each other.
        store.Schema.For<App>().Identity(x => x.Name).UseOptimisticConcurrency(true);
        store.Schema.For<Job>().Identity(x => x.Name).Index(x => x.App);
        store.Schema.For<JobSchedule>().Index(x => x.Job);
        store.Schema.For<ScheduleProgress>().Index(x => x.Job);
        store.Schema.For<JobOccurrence>().Index(x => x.Job);
        store.Storage.ExtendedSchemaObjects.Add(TaskLogTable.Define(schema));
        store.Storage.ExtendedSchemaObjects.Add(AppSequenceTable.Define(schema));
        store.Storage.ExtendedSchemaObjects.Add(ExecutorLeaseTable.Define(schema));
        store.Storage.ExtendedSchemaObjects.Add(DeletedTaskTable.Define(schema));
    }
}
