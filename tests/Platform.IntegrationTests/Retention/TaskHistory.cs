using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;
using Platform.TaskStore;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.IntegrationTests.Retention;

/// <summary>One task to write straight into the store: its sequence id, the state it reached and when it got there.</summary>
public sealed record SeededTask(long SequenceId, TaskState State, DateTimeOffset At, int LogLines = 2);

/// <summary>
/// A fixture's task history, written and read behind the services' backs: hundreds of finished tasks are
/// too slow to make through executors, so they are appended as the executors would append them (same
/// Marten configuration, same events, same log table), and what is left is checked in the tables
/// themselves, not only through the API.
/// </summary>
public sealed class TaskHistory : IAsyncDisposable
{
    private const int StreamsPerSession = 1000;

    private readonly PlatformFixture _platform;
    private readonly NpgsqlDataSource _dataSource;
    private readonly DocumentStore _store;
    private readonly TaskLogStore _logs;

    public TaskHistory(PlatformFixture platform)
    {
        _platform = platform;
        _dataSource = platform.OpenDatabase();
        _store = DocumentStore.For(store =>
        {
            store.Connection(_dataSource);
            TaskStoreRegistration.ConfigureStore(store, platform.Isolation);
        });
        _logs = new TaskLogStore(_dataSource, Options.Create(new TaskStoreOptions { Schema = platform.Isolation }));
    }

    private string Schema => _platform.Isolation;

    /// <summary>Appends each task's stream (and so its read model) and its log lines, and moves the app's sequence past them.</summary>
    /// <returns>The ids, in the order of <paramref name="tasks"/>.</returns>
    public async Task<List<Guid>> SeedAsync(string app, IReadOnlyList<SeededTask> tasks)
    {
        var ids = tasks.Select(_ => Guid.CreateVersion7()).ToList();
        foreach (var chunk in tasks.Zip(ids).Chunk(StreamsPerSession))
        {
            await using var session = _store.LightweightSession();
            var lines = new List<TaskLogLine>();
            foreach (var (task, id) in chunk)
            {
                session.Events.StartStream<AppTask>(id, Events(app, id, task).ToArray());
                for (var n = 1; n <= task.LogLines; n++)
                    lines.Add(new TaskLogLine(id, n, LogStream.Stdout, task.At, $"line {n} of task {task.SequenceId}"));
            }
            await session.SaveChangesAsync();
            await _logs.AppendAsync(lines, CancellationToken.None);
        }
        await using var sequence = _dataSource.CreateCommand(
            $"""
             insert into {Schema}.app_task_sequences as s (app, last_sequence_id) values ($1, $2)
             on conflict (app) do update set last_sequence_id = greatest(s.last_sequence_id, $2)
             """);
        sequence.Parameters.Add(new NpgsqlParameter { Value = app });
        sequence.Parameters.Add(new NpgsqlParameter { Value = tasks.Max(t => t.SequenceId) });
        await sequence.ExecuteNonQueryAsync();
        return ids;
    }

    /// <summary>
    /// Puts a task's read model in CANCELING. No stored event leads there yet (the cancel flow is issue 3), so
    /// the row is set directly, its JSON and its state column alike: what retention must respect is the state it reads.
    /// </summary>
    public async Task MarkCancelingAsync(Guid id)
    {
        await using var command = _dataSource.CreateCommand(
            $"update {Schema}.{AppTask.TableName} set data = jsonb_set(data, '{{State}}', '\"Canceling\"'), {AppTask.StateColumn} = 'Canceling' where id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    public Task AppendLogAsync(Guid task, params string[] lines) =>
        _logs.AppendAsync(lines.Select((line, i) => new TaskLogLine(task, i + 1, LogStream.Stdout, DateTimeOffset.UtcNow, line)).ToList(), CancellationToken.None);

    private static IEnumerable<object> Events(string app, Guid id, SeededTask task)
    {
        // The platform's own guarantees act on seeded history too: a task PENDING for longer than the
        // re-dispatch period is published again (and then runs), and a RUNNING task whose executor holds no
        // lease is failed as lost. So a pending seed is accepted just now, and a running one is claimed by an
        // executor of the fixture that is alive and renews its lease. (Retention's age limit applies to
        // finished tasks only, so neither choice weakens what the tests show.)
        var accepted = task.State == TaskState.Pending ? DateTimeOffset.UtcNow : task.At - TimeSpan.FromSeconds(2);
        yield return new TaskAccepted(id, app, task.SequenceId, $"seeded-{task.SequenceId}", "true", 256, 1024,
            new Dictionary<string, string>(), accepted);
        if (task.State == TaskState.Pending) yield break;
        yield return new TaskClaimed(id, PlatformFixture.ExecutorA, accepted + TimeSpan.FromSeconds(1));
        if (task.State == TaskState.Succeeded) yield return new TaskSucceeded(id, 0, task.At);
        if (task.State == TaskState.Failed) yield return new TaskFailed(id, 1, "exited with code 1", task.At);
    }

    /// <summary>The app's tasks still in the read model: sequence id and state, oldest first.</summary>
    public async Task<List<(long SequenceId, string State)>> TasksOfAsync(string app)
    {
        await using var command = _dataSource.CreateCommand(
            $"select CAST(data ->> 'SequenceId' as bigint), data ->> 'State' from {Schema}.mt_doc_apptask where data ->> 'App' = $1 order by 1");
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        var tasks = new List<(long, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) tasks.Add((reader.GetInt64(0), reader.GetString(1)));
        return tasks;
    }

    /// <summary>How many rows of these tasks are left anywhere: events, streams, read model and log lines.</summary>
    public async Task<long> RowsLeftAsync(IEnumerable<Guid> ids)
    {
        await using var command = _dataSource.CreateCommand(
            $"""
             select (select count(*) from {Schema}.mt_events where stream_id = any($1))
                  + (select count(*) from {Schema}.mt_streams where id = any($1))
                  + (select count(*) from {Schema}.mt_doc_apptask where id = any($1))
                  + (select count(*) from {Schema}.task_logs where task_id = any($1))
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<string>> LogTextOfAsync(Guid id)
    {
        await using var command = _dataSource.CreateCommand($"select line from {Schema}.task_logs where task_id = $1 order by seq");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }

    /// <summary>The retention runs recorded for the app: reason, deleted count and replica of each.</summary>
    public async Task<List<(string Reason, int Deleted, string Replica, double ElapsedMs)>> RunsOfAsync(string app)
    {
        await using var command = _dataSource.CreateCommand(
            $"""
             select data ->> 'Reason', CAST(data ->> 'Deleted' as int), data ->> 'Replica', CAST(data ->> 'ElapsedMs' as double precision)
             from {Schema}.mt_doc_retentionrun where data ->> 'App' = $1
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        var runs = new List<(string, int, string, double)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) runs.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetDouble(3)));
        return runs;
    }

    /// <summary>Polls until <paramref name="done"/> holds; fails with the service logs if it never does.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {timeout}.\n{_platform.DescribeServices()}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _dataSource.DisposeAsync();
    }
}
