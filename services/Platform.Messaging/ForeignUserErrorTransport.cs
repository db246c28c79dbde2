using MassTransit;
using MassTransit.RabbitMqTransport;
using RabbitMQ.Client;

namespace Platform.Messaging;

/// <summary>
/// Moves a failed message to the endpoint's <c>_error</c> queue when it carries another user's
/// <c>user_id</c> (an outside publisher's). MassTransit's own move copies every property, and RabbitMQ
/// refuses a <c>user_id</c> that is not the connection's user: the channel closed, the message came back,
/// and it failed again, forever. Here the copy goes without it (kept as the header
/// <c>platform-publisher</c>), with MassTransit's fault headers; any other message takes MassTransit's path.
/// </summary>
internal sealed class ForeignUserErrorTransport(string ownUser) : IFilter<ExceptionReceiveContext>
{
    private readonly IFilter<ExceptionReceiveContext> _standard = new MassTransit.Middleware.ErrorTransportFilter();

    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        if (!context.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) || rabbit.Properties.UserId is not { Length: > 0 } user
            || user == ownUser || !context.TryGetPayload<ChannelContext>(out var channel))
        {
            await _standard.Send(context, next);
            return;
        }
        var queue = context.InputAddress.AbsolutePath.Split('/')[^1] + "_error";
        // Declared as MassTransit declares its error queue and exchange (it may not have moved anything yet).
        await channel.Channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: context.CancellationToken);
        await channel.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: context.CancellationToken);
        await channel.Channel.QueueBindAsync(queue, queue, "", cancellationToken: context.CancellationToken);
        var properties = new BasicProperties(rabbit.Properties) { UserId = null };
        var headers = properties.Headers = new Dictionary<string, object?>(rabbit.Properties.Headers ?? new Dictionary<string, object?>())
        {
            ["MT-Reason"] = "fault",
            ["MT-Fault-ExceptionType"] = context.Exception.GetType().FullName,
            ["MT-Fault-Message"] = context.Exception.Message,
            ["MT-Fault-Timestamp"] = context.ExceptionTimestamp.ToString("O"),
            ["platform-publisher"] = user,
        };
        await channel.BasicPublishAsync(queue, "", true, properties, context.Body.GetBytes(), true, context.CancellationToken);
        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("foreignUserErrorTransport");
}
