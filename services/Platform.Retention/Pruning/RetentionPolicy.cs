using Platform.TaskStore.Tasks;

namespace Platform.Retention.Pruning;

/// <summary>
/// Which of an app's finished tasks go: every one past the newest <see cref="RetentionLimits.MaxTasks"/>
/// (newest by sequence id, which the store hands out in acceptance order and never reuses), and every one
/// that finished longer than <see cref="RetentionLimits.MaxAge"/> ago. Whichever limit bites first wins.
/// Unfinished tasks are never given to it, so they neither count nor go.
/// </summary>
public static class RetentionPolicy
{
    /// <param name="newestFirst">The app's finished tasks, ordered by sequence id, newest first.</param>
    /// <param name="limits">The app's limits.</param>
    /// <param name="now">The time the age limit counts back from.</param>
    /// <returns>The ids to delete, oldest first, so that an interrupted prune has removed the oldest.</returns>
    public static IReadOnlyList<Guid> SelectForDeletion(IReadOnlyList<FinishedTask> newestFirst, RetentionLimits limits, DateTimeOffset now)
    {
        var finishedBefore = limits.MaxAge is { } age ? now - age : DateTimeOffset.MinValue;
        var doomed = new List<Guid>();
        for (var i = newestFirst.Count - 1; i >= 0; i--)
        {
            if (i >= limits.MaxTasks || newestFirst[i].FinishedAt < finishedBefore) doomed.Add(newestFirst[i].Id);
        }
        return doomed;
    }
}
