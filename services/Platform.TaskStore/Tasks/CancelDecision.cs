namespace Platform.TaskStore.Tasks;

/// <summary>The outcome of a cancel request: events to append, whether a process must be ended, or why it is refused.</summary>
public sealed record CancelDecision(IReadOnlyList<object> Events, bool TerminateProcess, string? Refusal);
