using Marten;
using Npgsql;

namespace Platform.TaskStore.Jobs;

/// <summary>
/// Makes creating a job's task conditional on the job, inside the transaction that creates it: the job's
/// row (and the schedule's) is locked FOR SHARE until commit, and the transaction fails when the job is in
/// the wrong state or the schedule is gone. So a suspend, a schedule's removal or a job's deletion either
/// waits for an in-flight task creation (and then sees the task) or prevents it; no task slips in after.
/// </summary>
public static class JobGuard
{
    /// <summary>The task may be created only while the job is active and the schedule still exists (a scheduled run).</summary>
    public static void RequireActiveSchedule(IDocumentSession session, string job, Guid scheduleId) =>
        session.QueueSqlCommand(
            $"""
             select 1 / (select count(*)::int from (
               select 1 from {Schema(session)}.mt_doc_job j, {Schema(session)}.mt_doc_jobschedule s
               where j.id = ? and s.id = ? and j.data ->> 'State' = 'Active'
               for share) still_active)
             """, job, scheduleId);

    /// <summary>The task may be created only while the job exists and is not being deleted (an ad hoc run).</summary>
    public static void RequireNotDeleting(IDocumentSession session, string job) =>
        session.QueueSqlCommand(
            $"""
             select 1 / (select count(*)::int from (
               select 1 from {Schema(session)}.mt_doc_job j where j.id = ? and j.data ->> 'State' <> 'Deleting'
               for share) still_there)
             """, job);

    /// <summary>True when a save failed because a guard found the job (or schedule) changed.</summary>
    public static bool Failed(Exception ex) =>
        ex is PostgresException { SqlState: PostgresErrorCodes.DivisionByZero }
        || (ex.InnerException is { } inner && Failed(inner));

    private static string Schema(IDocumentSession session) => session.DocumentStore.Options.DatabaseSchemaName;
}
