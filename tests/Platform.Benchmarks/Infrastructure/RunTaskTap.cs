using System.Collections.Concurrent;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// A queue of the benchmark's own bound to the RunTask exchange: records when each RunTask was published
/// (its arrival here, on the same machine), by task id. That is where a scheduled occurrence's lateness ends.
/// It also keeps the envelope's <c>sentTime</c>, which MassTransit takes from the message id made as the
/// publish begins: the publisher's own clock, so the lateness can be split into the publisher's part and the
/// broker's and delivery's (docs/benchmarks.md, "The burst's lateness taken apart").
/// </summary>
public sealed class RunTaskTap : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private RunTaskTap(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    /// <summary>Arrival time of each RunTask seen, by task id.</summary>
    public ConcurrentDictionary<Guid, DateTimeOffset> Arrivals { get; } = new();

    /// <summary>The envelope's send time of each RunTask seen that has one (a MassTransit publisher's), by task id.</summary>
    public ConcurrentDictionary<Guid, DateTimeOffset> SentTimes { get; } = new();

    /// <summary>The earliest arrival of a task's RunTask at any of <paramref name="taps"/>, or null when none saw it.</summary>
    public static DateTimeOffset? FirstArrival(Guid taskId, params RunTaskTap[] taps)
    {
        DateTimeOffset? first = null;
        foreach (var tap in taps)
            if (tap.Arrivals.TryGetValue(taskId, out var at) && (first is null || at < first)) first = at;
        return first;
    }

    public static async Task<RunTaskTap> StartAsync(BenchmarkServers servers)
    {
        var factory = new ConnectionFactory { HostName = "127.0.0.1", VirtualHost = servers.Name, UserName = BenchmarkServers.RabbitUser, Password = BenchmarkServers.RabbitPassword };
        var connection = await factory.CreateConnectionAsync("benchmark-run-task-tap");
        var channel = await connection.CreateChannelAsync();
        // MassTransit declares the exchange when the first publisher or consumer starts; declaring it the same way is harmless.
        await channel.ExchangeDeclareAsync("platform.run-task", ExchangeType.Fanout, durable: true);
        var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true);
        await channel.QueueBindAsync(queue.QueueName, "platform.run-task", "");
        var tap = new RunTaskTap(connection, channel);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            var at = DateTimeOffset.UtcNow;
            var (id, sent) = Read(delivery.Body.Span);
            if (id is { } task)
            {
                tap.Arrivals.TryAdd(task, at);
                if (sent is { } sentAt) tap.SentTimes.TryAdd(task, sentAt);
            }
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return tap;
    }

    // MassTransit's envelope carries the RunTask under "message", and its send time; an outside publisher's bare
    // JSON is the RunTask itself.
    private static (Guid? TaskId, DateTimeOffset? Sent) Read(ReadOnlySpan<byte> body)
    {
        using var document = JsonDocument.Parse(body.ToArray());
        var root = document.RootElement;
        var message = root.TryGetProperty("message", out var inner) ? inner : root;
        DateTimeOffset? sent = root.TryGetProperty("sentTime", out var time) && time.TryGetDateTimeOffset(out var at) ? at : null;
        foreach (var name in (string[])["taskId", "task_id", "TaskId"])
            if (message.TryGetProperty(name, out var id) && id.TryGetGuid(out var guid)) return (guid, sent);
        return (null, sent);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
    }
}
