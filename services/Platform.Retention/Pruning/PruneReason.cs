namespace Platform.Retention.Pruning;

/// <summary>Why an app was pruned, recorded on its <see cref="RetentionRun"/>.</summary>
public enum PruneReason
{
    /// <summary>One of its tasks completed or was terminated (a TaskCompleted / TaskTerminated message).</summary>
    TaskEnded,

    /// <summary>The periodic sweep over every app.</summary>
    Sweep,
}
