using Marten;

namespace Platform.TaskStore.Jobs;

/// <summary>
/// Tells the Scheduler that jobs or schedules changed, with a PostgreSQL NOTIFY sent in the same
/// transaction as the change (so it arrives only if the change committed). The Scheduler LISTENs and
/// reloads at once, instead of polling the tables.
/// </summary>
public static class JobChanges
{
    /// <summary>The channel, one per schema, so that deployments (and test fixtures) sharing a database stay apart.</summary>
    public static string Channel(string schema) => $"{schema}_job_changes";

    public static void Notify(IDocumentSession session, string job) =>
        session.QueueSqlCommand("select pg_notify(?, ?)", Channel(session.DocumentStore.Options.DatabaseSchemaName), job);
}
