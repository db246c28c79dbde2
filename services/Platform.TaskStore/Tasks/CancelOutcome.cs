namespace Platform.TaskStore.Tasks;

/// <summary>What a cancel request did: the task after it (null when there is no such task) and the decision taken.</summary>
public sealed record CancelOutcome(AppTask? Task, CancelDecision? Decision, DateTimeOffset At)
{
    /// <summary>A pending task that ended here, at the cancel, so that no executor will announce or count its end.</summary>
    public bool EndedWithoutExecutor => Task is not null && Decision is { Refusal: null, TerminateProcess: false, Events.Count: > 0 };
}
