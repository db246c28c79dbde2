namespace Platform.Retention.Pruning;

/// <summary>
/// What one prune of one app removed, stored as a Marten document (table <c>mt_doc_retentionrun</c>) so
/// that an operator, or a test, can see retention at work and add up exactly what it deleted. Written only
/// when a prune removed something.
/// </summary>
public sealed class RetentionRun
{
    public Guid Id { get; set; }
    public string App { get; set; } = "";
    public PruneReason Reason { get; set; }

    /// <summary>Tasks deleted (stream, read model and logs), as the deletion reported them: never counted twice.</summary>
    public int Deleted { get; set; }

    /// <summary>Log lines removed from kept tasks by the per-task byte cap.</summary>
    public int LogLinesTrimmed { get; set; }

    /// <summary>The Retention instance (host and process id) that did it.</summary>
    public string Replica { get; set; } = "";

    public DateTimeOffset StartedAt { get; set; }
    public double ElapsedMs { get; set; }
}
