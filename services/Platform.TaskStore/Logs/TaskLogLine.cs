namespace Platform.TaskStore.Logs;

/// <summary>Which of the process's streams a line came from.</summary>
public enum LogStream : short
{
    Stdout = 1,
    Stderr = 2,
}

/// <summary>One line a task printed, numbered in the order the executor read it.</summary>
public sealed record TaskLogLine(Guid TaskId, long Sequence, LogStream Stream, DateTimeOffset Timestamp, string Line);
