namespace Platform.TaskStore.Tasks;

/// <summary>
/// First event of every task stream: the platform accepted the task and will run it. <see cref="Origin"/>
/// is set when a job created the task; it is last and optional so that events stored before it read back.
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
    TaskOrigin? Origin = null);
