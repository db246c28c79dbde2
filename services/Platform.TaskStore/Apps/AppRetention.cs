namespace Platform.TaskStore.Apps;

/// <summary>
/// An app's own retention limits, overriding the Retention service's configured ones field by field; a
/// field left null falls back to the configured value. Shown and accepted by the API as
/// <c>retention: { max_tasks, max_age, max_log_bytes }</c>.
/// </summary>
public sealed class AppRetention
{
    public const int MaxTasksLimit = 1_000_000;

    /// <summary>How many finished tasks to keep, the newest by sequence id.</summary>
    public int? MaxTasks { get; set; }

    /// <summary>How long after it finished a task is kept, as <see cref="RetentionDuration"/> reads it ("30d").</summary>
    public string? MaxAge { get; set; }

    /// <summary>How many bytes of output to keep per finished task; the oldest lines go first.</summary>
    public long? MaxLogBytes { get; set; }

    /// <summary>Field errors, keyed by the field's API name (<c>max_tasks</c> ...); empty when valid.</summary>
    public IEnumerable<(string Field, string Error)> Errors()
    {
        if (MaxTasks is < 1 or > MaxTasksLimit)
            yield return ("max_tasks", $"max_tasks must be between 1 and {MaxTasksLimit}.");
        if (MaxAge is not null && !RetentionDuration.TryParse(MaxAge, out _))
            yield return ("max_age", "max_age must be a positive duration such as \"30d\", \"12h\" or \"90m\".");
        if (MaxLogBytes is < 1)
            yield return ("max_log_bytes", "max_log_bytes must be at least 1.");
    }
}
