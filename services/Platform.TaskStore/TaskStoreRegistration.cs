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
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Audit;
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
        // Read by every service that creates tasks (the Api refuses, the Scheduler skips), from one section.
        builder.Services.AddOptions<UnfinishedTaskLimitOptions>()
            .Bind(builder.Configuration.GetSection(UnfinishedTaskLimitOptions.Section))
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
                // Every service checks the schema at start-up under one advisory lock, one after another.
                // When several start at once (a test fixture, a supervisor restarting after a crash) on a
                // loaded machine, Marten's default wait of 10 s was seen to run out and abort the start.
                store.ApplyChangesLockTimeout = TimeSpan.FromMinutes(2);
                return store;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup();
        // Before Marten's migration, which Marten puts at the head of the hosted services.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, AppTaskColumns>());

        builder.Services.AddSingleton<TaskLogStore>();
        builder.Services.AddSingleton<AppSequences>();
        builder.Services.AddSingleton<TaskDeletion>();
        builder.Services.AddSingleton<FinishedTasks>();
        builder.Services.AddSingleton<RetentionCandidates>();
        builder.Services.AddSingleton<ExecutorLeases>();
        builder.Services.AddSingleton<JobGuard>();
        builder.Services.AddSingleton<JobChanges>();
        // Bounded, so that a probe during an outage answers in time instead of waiting for a connect timeout.
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgresql", tags: ["ready"], timeout: TimeSpan.FromSeconds(2));
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

    /// <summary>A stable number per schema (FNV-1a): <see cref="string.GetHashCode()"/> differs from process to process.</summary>
    private static int SchemaLockId(string schema)
    {
        var hash = 2166136261u;
        foreach (var c in schema) hash = (hash ^ c) * 16777619u;
        return (int)(hash & 0x7fffffff);
    }

    /// <summary>
    /// The store's shape: schema, serialization, event types, projections, indexes and the extra tables.
    /// Public so that a tool or test that writes to the store directly (seeding history) uses exactly the
    /// services' settings.
    /// </summary>
    public static void ConfigureStore(StoreOptions store, string schema)
    {
        store.DatabaseSchemaName = schema;
        store.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        // Replicas of one platform take turns migrating its schema; platforms in other schemas of the same
        // database (test fixtures, a staging copy) need not wait for them, as they would on Marten's one fixed lock id.
        store.ApplyChangesLockId = SchemaLockId(schema);
        // Several services (and replicas) start against one schema at once and queue for Marten's migration
        // lock to compare it; on a loaded machine the last in the queue timed out and crashed although the
        // first had made the schema current. A replica that loses the lock now logs it and starts.
        store.ResourceMigrationFailureMode = ResourceMigrationFailureMode.ContinueOnFailures;
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
        // Who did it: the Api stores the caller (subject and means) with the events a request appends.
        store.Events.MetadataConfig.UserNameEnabled = true;
        store.Projections.Add<AppTaskProjection>(ProjectionLifecycle.Inline);
        // The duplicated columns hold an enum's name, as the JSON does: hand-written SQL compares with 'Running'.
        store.Advanced.DuplicatedFieldEnumStorage = EnumStorage.AsString;
        store.Schema.For<AppTask>()
            // Columns of their own (AppTask.AppColumn ...), kept in step by Marten, and filled in for rows
            // that existed before a column did by AppTaskColumns at start-up. Counting an app's tasks (every
            // list page) reads the column's index alone, where an index on the JSON expression made
            // PostgreSQL read and unpack every one of the app's documents (1.8 ms for 3,300 tasks).
            .Duplicate(x => x.App)
            // Only unfinished tasks are ever looked up by state (orphans, re-dispatch, the limits), and they
            // are few beside the finished ones: partial indexes stay small and a finished row leaves them.
            .Duplicate(x => x.State, configure: index => index.Predicate = UnfinishedTaskCounts.Predicate())
            .Duplicate(x => x.Space, configure: index => index.Predicate = UnfinishedTaskCounts.Predicate())
            .Duplicate(x => x.Job)
            // The per-app limit, counted before every task is accepted (UnfinishedTaskCounts): the app's unfinished
            // tasks alone, not all its tasks filtered. With the space's count: 10.6 ms on the JSON, 0.48 ms on
            // these indexes, for 200,000 tasks of which 1 % unfinished (UnfinishedCountBenchmark).
            .Index(x => x.App, index =>
            {
                index.Name = "mt_doc_apptask_idx_app_unfinished";
                index.Predicate = UnfinishedTaskCounts.Predicate();
            })
            // An app's tasks newest first (GET /v3/apps/{app}/tasks) read one page of this index, not
            // every task of the app sorted: 13 ms -> 0.1 ms for an app of 3,300 tasks (docs/benchmarks.md).
            .Index(new Expression<Func<AppTask, object>>[] { x => x.App, x => x.SequenceId },
                index => index.Name = "mt_doc_apptask_idx_app_sequence");
        // Optimistic concurrency: two PATCHes of one app never silently overwrite each other.
        store.Schema.For<App>().Identity(x => x.Name).UseOptimisticConcurrency(true).Index(x => x.Space);
        store.Schema.For<Job>().Identity(x => x.Name).Index(x => x.App).Index(x => x.Space);
        store.Schema.For<Space>().Identity(x => x.Name);
        store.Schema.For<RoleBinding>().Index(x => x.Subject).Index(x => x.Space);
        store.Schema.For<ServiceAccount>().Identity(x => x.Name).UniqueIndex(x => x.RabbitMqUser!);
        store.Schema.For<AccessToken>().Index(x => x.Account);
        store.Schema.For<JobSchedule>().Index(x => x.Job);
        store.Schema.For<ScheduleProgress>().Index(x => x.Job);
        store.Schema.For<JobOccurrence>().Index(x => x.Job);
        store.Schema.For<AuditEntry>().Index(x => x.Space).Index(x => x.TargetName).Index(x => x.At);
        store.Storage.ExtendedSchemaObjects.Add(TaskLogTable.Define(schema));
        store.Storage.ExtendedSchemaObjects.Add(AppSequenceTable.Define(schema));
        store.Storage.ExtendedSchemaObjects.Add(ExecutorLeaseTable.Define(schema));
        store.Storage.ExtendedSchemaObjects.Add(DeletedTaskTable.Define(schema));
    }
}
