using System.Threading.Channels;
using Platform.TaskStore.Logs;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// One task's output on its way to the log table. The process's readers enqueue lines; a single writer
/// numbers them in arrival order and stores them in batches (up to <see cref="BatchSize"/> lines, or what
/// arrived within <see cref="FlushInterval"/>). The queue is bounded: when the database is slow the
/// readers wait, so the task blocks on its pipe instead of the executor dropping lines or filling memory.
/// </summary>
internal sealed class TaskOutput : IAsyncDisposable
{
    public const int BatchSize = 2000;
    public const int MaxLineLength = 64 * 1024;
    public const string ContinuationMarker = " [line continues]";
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private readonly Channel<(LogStream Stream, DateTimeOffset At, string Line)> _lines =
        Channel.CreateBounded<(LogStream, DateTimeOffset, string)>(new BoundedChannelOptions(20_000) { SingleReader = true });
    private readonly Guid _taskId;
    private readonly TaskLogStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Task _writer;
    private long _sequence;

    // afterSequence: the last line number the task already has (a retried attempt continues its numbering).
    public TaskOutput(Guid taskId, TaskLogStore store, TimeProvider clock, ILogger logger, long afterSequence = 0)
    {
        _sequence = afterSequence;
        _taskId = taskId;
        _store = store;
        _clock = clock;
        _logger = logger;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Reads a pipe line by line until it closes. A line over the limit is split, each piece but the last marked.</summary>
    public async Task PumpAsync(StreamReader reader, LogStream stream)
    {
        while (await reader.ReadLineAsync() is { } line) await WriteLineAsync(stream, _clock.GetUtcNow(), line);
    }

    /// <summary>One line as it was read at <paramref name="at"/> (a runtime that timestamps its logs gives its own time).</summary>
    public async ValueTask WriteLineAsync(LogStream stream, DateTimeOffset at, string line)
    {
        for (var start = 0; start < line.Length || start == 0; start += MaxLineLength)
        {
            var piece = line.Length - start > MaxLineLength ? line.Substring(start, MaxLineLength) + ContinuationMarker : line[start..];
            await _lines.Writer.WriteAsync((stream, at, piece));
            if (line.Length - start <= MaxLineLength) break;
        }
    }

    /// <summary>A line the platform itself adds to the task's log (for example why it was killed).</summary>
    public ValueTask AddAsync(LogStream stream, string line) => _lines.Writer.WriteAsync((stream, _clock.GetUtcNow(), line));

    private async Task WriteAsync()
    {
        var batch = new List<TaskLogLine>(BatchSize);
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync())
        {
            // Let a burst gather so one round trip carries many lines.
            if (reader.Count < BatchSize) await Task.Delay(FlushInterval);
            while (batch.Count < BatchSize && reader.TryRead(out var item))
                batch.Add(new TaskLogLine(_taskId, ++_sequence, item.Stream, item.At, item.Line));
            await StoreAsync(batch);
            batch.Clear();
        }
    }

    private Task StoreAsync(List<TaskLogLine> batch) =>
        Retry.UntilStoredAsync(() => _store.AppendAsync(batch, CancellationToken.None), 30, (ex, attempt) =>
            _logger.LogWarning(ex, "Storing {Count} log lines of task {TaskId} failed (attempt {Attempt}); retrying", batch.Count, _taskId, attempt));

    /// <summary>Completes when every line enqueued so far is stored.</summary>
    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer;
    }
}
