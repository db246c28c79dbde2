using System.ComponentModel.DataAnnotations;
using Platform.TaskStore.Apps;

namespace Platform.Retention;

/// <summary>
/// The retention limits every app gets unless its own <see cref="AppRetention"/> says otherwise, and how
/// often and in what batches the service works. Whichever limit bites first wins.
/// </summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string Section = "Retention";

    /// <summary>How many finished tasks each app keeps, the newest by sequence id.</summary>
    [Range(1, AppRetention.MaxTasksLimit)]
    public int MaxTasksPerApp { get; set; } = 500;

    /// <summary>Optional: how long after it finished a task is kept ("30d", "12h", or a TimeSpan).</summary>
    public string? MaxAge { get; set; }

    /// <summary>Optional: how many bytes of output each finished task keeps; its oldest lines go first.</summary>
    [Range(1, long.MaxValue)]
    public long? MaxLogBytesPerTask { get; set; }

    /// <summary>How often every app is pruned, to catch up with completions whose message was missed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The least time between two prunes of one app caused by its tasks ending: a burst of completions
    /// becomes one prune per interval. Zero prunes after every completion.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MinPruneInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many tasks one deletion transaction removes: small enough to keep locks short for readers.</summary>
    [Range(1, 50_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>How many deletion batches of one app run at once (each its own transaction and connection).</summary>
    [Range(1, 16)]
    public int DeleteParallelism { get; set; } = 2;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxAge is not null && !RetentionDuration.TryParse(MaxAge, out _))
            yield return new ValidationResult("MaxAge must be a positive duration such as \"30d\", \"12h\" or a TimeSpan.", [nameof(MaxAge)]);
    }
}
