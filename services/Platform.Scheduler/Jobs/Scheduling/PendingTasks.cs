namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>Work started in the background and not awaited by its starter, kept so that a stop can wait for it.</summary>
internal sealed class PendingTasks
{
    private readonly HashSet<Task> _pending = [];

    public void Add(Task task)
    {
        lock (_pending) _pending.Add(task);
        task.ContinueWith(done =>
        {
            lock (_pending) _pending.Remove(done);
        }, TaskScheduler.Default);
    }

    public Task AllAsync()
    {
        lock (_pending) return Task.WhenAll(_pending.ToArray());
    }
}
