namespace Platform.TaskStore.Tasks;

/// <summary>The states of a task, as Cloud Foundry names them.</summary>
public enum TaskState
{
    Pending,
    Running,
    Canceling,
    Succeeded,
    Failed,
}

public static class TaskStateNames
{
    /// <summary>The wire name, as Cloud Foundry's v3 API spells it (<c>PENDING</c>, <c>RUNNING</c> ...).</summary>
    public static string ToWire(this TaskState state) => state.ToString().ToUpperInvariant();

    public static bool IsTerminal(this TaskState state) => state is TaskState.Succeeded or TaskState.Failed;

    /// <summary>The terminal states: a finished task never changes again, and only a finished task may be deleted.</summary>
    public static readonly TaskState[] Finished = [TaskState.Succeeded, TaskState.Failed];

    /// <summary>The states of a task that has not ended: it counts against limits and policies, and deletion waits for it.</summary>
    public static readonly TaskState[] Unfinished = [TaskState.Pending, TaskState.Running, TaskState.Canceling];
}
