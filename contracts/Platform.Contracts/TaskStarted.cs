namespace Platform.Contracts;

/// <summary>Event: an executor claimed a task and started its process. Published by the Executor.</summary>
public sealed record TaskStarted
{
    /// <summary>The task's id.</summary>
    public required Guid TaskId { get; init; }

    /// <summary>The app the task belongs to.</summary>
    public required string App { get; init; }

    /// <summary>The task's per-app sequence number (1, 2, 3 ...).</summary>
    public required long SequenceId { get; init; }

    /// <summary>The executor instance running the task.</summary>
    public required string Executor { get; init; }

    /// <summary>When the process started.</summary>
    public required DateTimeOffset StartedAt { get; init; }
}
