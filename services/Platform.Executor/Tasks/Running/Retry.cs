namespace Platform.Executor.Tasks.Running;

/// <summary>
/// What a task leaves behind (its end, its output) must be stored even across a database restart: an
/// operation is retried with a quadratic backoff capped at 5 s, which spans minutes over a few dozen attempts.
/// </summary>
internal static class Retry
{
    public static async Task UntilStoredAsync(Func<Task> store, int attempts, Action<Exception, int> failed)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store();
                return;
            }
            catch (Exception ex) when (attempt < attempts)
            {
                failed(ex, attempt);
                await Task.Delay(Backoff(attempt));
            }
        }
    }

    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt * attempt));
}
