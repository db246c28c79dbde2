using Npgsql;
using Platform.TaskStore.Jobs;

namespace Platform.Scheduler.Jobs.Scheduling;

/// <summary>
/// LISTENs for <see cref="JobChanges"/> on one dedicated connection and asks the loop to reload the job
/// named in each notification, so that a new or changed schedule is picked up at once while an idle
/// Scheduler sends PostgreSQL no statements.
/// </summary>
internal sealed class JobChangeListener(
    NpgsqlDataSource dataSource, JobChanges changes, ReloadSignal reload, ILogger<JobChangeListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                // The payload is the job that changed: the loop reloads that job alone (JobScheduler). One without a name reloads everything.
                connection.Notification += (_, notification) =>
                {
                    if (string.IsNullOrEmpty(notification.Payload)) reload.Request();
                    else reload.Request(notification.Payload);
                };
                await using (var listen = new NpgsqlCommand($"listen \"{changes.Channel}\"", connection))
                    await listen.ExecuteNonQueryAsync(ct);
                // Changes made while the connection was down were not notified.
                reload.Request();
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(ex, "Listening for job changes failed; retrying in 2 s");
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
            }
        }
    }
}
