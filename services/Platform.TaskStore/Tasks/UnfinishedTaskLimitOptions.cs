using System.ComponentModel.DataAnnotations;
using Marten;
using Marten.Linq.MatchesSql;
using Marten.Services.BatchQuerying;
using Platform.TaskStore.Apps;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// Cloud Foundry's <c>per_app_tasks</c>, and the same per space: how many unfinished (pending, running,
/// cancelling) tasks may exist before a new one is refused. One setting for every path that creates a task:
/// the Api (422) and the Scheduler (the occurrence is SKIPPED). Read from <c>Access:Limits</c>, beside the
/// Api's other per-caller limits.
/// </summary>
public sealed class UnfinishedTaskLimitOptions
{
    public const string Section = "Access:Limits";

    /// <summary>Unfinished tasks an app may have; one more is refused.</summary>
    [Range(1, 1_000_000)]
    public int MaxUnfinishedTasksPerApp { get; set; } = 1000;

    /// <summary>Unfinished tasks all apps of a space may have together.</summary>
    [Range(1, 10_000_000)]
    public int MaxUnfinishedTasksPerSpace { get; set; } = 5000;

    /// <returns>Null while both limits hold for one more task of <paramref name="app"/>; otherwise why it is refused, naming the limit.</returns>
    public string? Exceeded(App app, UnfinishedTaskCounts counts)
    {
        if (counts.OfApp >= MaxUnfinishedTasksPerApp)
            return $"App '{app.Name}' already has {counts.OfApp} unfinished tasks: the limit per app (Access:Limits:MaxUnfinishedTasksPerApp) is {MaxUnfinishedTasksPerApp}.";
        if (counts.OfSpace >= MaxUnfinishedTasksPerSpace)
            return $"Space '{app.Space}' already has {counts.OfSpace} unfinished tasks: the limit per space (Access:Limits:MaxUnfinishedTasksPerSpace) is {MaxUnfinishedTasksPerSpace}.";
        return null;
    }
}

/// <summary>How many tasks of an app, and of its space, have not ended: the facts <see cref="UnfinishedTaskLimitOptions"/> judges.</summary>
public sealed record UnfinishedTaskCounts(int OfApp, int OfSpace)
{
    public static readonly UnfinishedTaskCounts None = new(0, 0);

    /// <summary>
    /// The condition of the partial indexes that hold unfinished tasks only (on the app and the space, which
    /// these counts read, and on the state), as the store's schema declares them. A query that means to use
    /// one writes exactly this, with the states as literals: a parameter (as Marten's LINQ would pass the
    /// states) leaves PostgreSQL unable to prove, in a prepared statement's generic plan, that the query's
    /// rows are in the index. Queries for single unfinished states (RUNNING, PENDING ...) imply it too.
    /// </summary>
    public static string Predicate(string? alias = null) =>
        DocumentFields.NoneOf(alias is null ? AppTask.StateColumn : $"{alias}.{AppTask.StateColumn}", TaskStateNames.Finished);

    // Marten's LINQ names the document table "d".
    private static readonly string InIndex = Predicate("d");

    /// <summary>Both counts in one round trip.</summary>
    public static async Task<UnfinishedTaskCounts> OfAsync(IQuerySession session, App app, CancellationToken ct)
    {
        var counts = await OfManyAsync(session, [app.Name], [app.Space], ct);
        return new UnfinishedTaskCounts(counts.Apps[app.Name], counts.Spaces[app.Space]);
    }

    /// <summary>
    /// The app, and its counts if it exists, in one round trip: the space's count reads the app's space inside
    /// the query. For the Api's create, which is on the way from "run this" to the process.
    /// </summary>
    public static async Task<(App? App, UnfinishedTaskCounts Counts)> WithAppAsync(IQuerySession session, string app, CancellationToken ct)
    {
        var batch = session.CreateBatchQuery();
        var loaded = batch.Load<App>(app);
        var ofApp = CountOfApp(batch, app);
        var spaceOfApp = $"d.{AppTask.SpaceColumn} = (select {DocumentFields.Text("a", nameof(App.Space))} from {session.DocumentStore.Options.DatabaseSchemaName}.{App.TableName} a where a.id = ?)";
        var ofSpace = batch.Query<AppTask>().Where(t => t.MatchesSql(spaceOfApp, app) && t.MatchesSql(InIndex)).Count();
        await batch.Execute(ct);
        return (await loaded, new UnfinishedTaskCounts((int)await ofApp, (int)await ofSpace));
    }

    /// <summary>The unfinished tasks of each of <paramref name="apps"/> and of each of <paramref name="spaces"/>, in one round trip.</summary>
    public static async Task<(Dictionary<string, int> Apps, Dictionary<string, int> Spaces)> OfManyAsync(
        IQuerySession session, IReadOnlyCollection<string> apps, IReadOnlyCollection<string> spaces, CancellationToken ct)
    {
        var batch = session.CreateBatchQuery();
        var ofApps = apps.Distinct().Select(app => (app, CountOfApp(batch, app))).ToList();
        var ofSpaces = spaces.Distinct().Select(space => (space, batch.Query<AppTask>().Where(t => t.Space == space && t.MatchesSql(InIndex)).Count())).ToList();
        await batch.Execute(ct);
        var byApp = new Dictionary<string, int>();
        foreach (var (app, count) in ofApps) byApp[app] = (int)await count;
        var bySpace = new Dictionary<string, int>();
        foreach (var (space, count) in ofSpaces) bySpace[space] = (int)await count;
        return (byApp, bySpace);
    }

    private static Task<long> CountOfApp(IBatchedQuery batch, string app) => batch.Query<AppTask>().Where(t => t.App == app && t.MatchesSql(InIndex)).Count();
}
