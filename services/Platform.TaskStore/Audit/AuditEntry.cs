using Marten;

namespace Platform.TaskStore.Audit;

/// <summary>
/// A change to an app or a job, and who made it. Apps and jobs are documents, not event streams (a task's
/// history is its stream, whose events carry their own actor), so their changes are recorded here, in the
/// same transaction as the change itself: an entry exists exactly when the change was stored.
/// </summary>
public sealed class AuditEntry
{
    public Guid Id { get; set; }

    /// <summary>What was done, as Cloud Foundry names its audit events: <c>audit.app.create</c>, <c>audit.job.suspend</c> ...</summary>
    public string Type { get; set; } = "";

    /// <summary><c>app</c> or <c>job</c>.</summary>
    public string TargetType { get; set; } = "";
    public string TargetName { get; set; } = "";

    /// <summary>The space of the app or job: who may read the entry is who may read its target.</summary>
    public string Space { get; set; } = "";

    /// <summary>Who did it (<see cref="Access.Actors"/>).</summary>
    public string Actor { get; set; } = "";

    public DateTimeOffset At { get; set; }

    /// <summary>Puts an entry for a change into <paramref name="session"/>, to be stored with the change when the session is saved.</summary>
    public static void Record(IDocumentSession session, string type, string targetType, string targetName, string space, string actor, DateTimeOffset at) =>
        session.Insert(new AuditEntry
        {
            Id = Guid.CreateVersion7(at), Type = type, TargetType = targetType, TargetName = targetName, Space = space, Actor = actor, At = at,
        });

    public static void ForApp(IDocumentSession session, string type, string app, string space, string actor, DateTimeOffset at) =>
        Record(session, "audit.app." + type, "app", app, space, actor, at);

    public static void ForJob(IDocumentSession session, string type, string job, string space, string actor, DateTimeOffset at) =>
        Record(session, "audit.job." + type, "job", job, space, actor, at);
}
