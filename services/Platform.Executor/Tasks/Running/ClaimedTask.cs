using Platform.TaskStore.Apps;

namespace Platform.Executor.Tasks.Running;

/// <summary>A task this executor won, with everything its process needs.</summary>
internal sealed record ClaimedTask(
    Guid TaskId,
    string App,
    long SequenceId,
    string Name,
    string Command,
    int MemoryInMb,
    int DiskInMb,
    IReadOnlyDictionary<string, string> Environment,
    DateTimeOffset AcceptedAt,
    DateTimeOffset ClaimedAt,
    int? TimeoutSeconds,
    int TerminationGracePeriodSeconds,
    int Attempt = 1,
    int? PidsLimit = null,
    AppNetwork? Network = null);
