using Platform.TaskStore.Apps;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// A task this executor won, with everything its process needs. <see cref="Environment"/> holds the app's
/// decrypted secrets (named in <see cref="SecretNames"/>); a task reattached after a restart has none
/// (its runtime holds them already).
/// </summary>
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
    AppNetwork? Network = null,
    string Space = Platform.TaskStore.Access.Space.DefaultName,
    string? Image = null,
    IReadOnlySet<string>? SecretNames = null)
{
    /// <summary>The variables of <see cref="Environment"/> that hold the app's secrets (a runtime may keep them apart).</summary>
    public bool IsSecret(string name) => SecretNames?.Contains(name) ?? false;
}
