namespace Platform.TaskStore.Tasks;

/// <summary>
/// First event of every task stream: the platform accepted the task and will run it. <see cref="Origin"/>
/// is set when a job created the task; <see cref="Space"/> is the app's space when it was accepted (null: events stored before spaces, read as the default space); the trailing fields are optional so that events stored before them read back.
/// </summary>
public sealed record TaskAccepted(
    Guid TaskId,
    string App,
    long SequenceId,
    string Name,
    string Command,
    int MemoryInMb,
    int DiskInMb,
    IReadOnlyDictionary<string, string> Env,
    DateTimeOffset AcceptedAt,
    int? TimeoutSeconds = null,
    int? TerminationGracePeriodSeconds = null,
    int MaxAttempts = 1,
    TaskOrigin? Origin = null,
    string? Space = null);
