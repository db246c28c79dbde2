using MassTransit;
using MassTransit.RabbitMqTransport;

namespace Platform.Messaging;

/// <summary>
/// Who published a message, as RabbitMQ vouches for it: the <c>user_id</c> property, which the broker
/// rejects unless it equals the publishing connection's user. Every Platform service stamps its own user
/// on what it sends (<see cref="Stamp"/>); an outside publisher sets it itself (docs/wire-format.md).
/// </summary>
public static class PublisherIdentity
{
    /// <summary>The validated publisher, or null when the message carries no <c>user_id</c> (or came over another transport).</summary>
    public static string? Of(ConsumeContext context) =>
        context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) && rabbit.Properties.UserId is { Length: > 0 } user
            ? user
            : null;

    internal static void Stamp(IRabbitMqBusFactoryConfigurator cfg, string username)
    {
        cfg.ConfigureSend(send => send.UseSendExecute(context => SetUser(context, username)));
        cfg.ConfigurePublish(publish => publish.UseExecute(context => SetUser(context, username)));
    }

    private static void SetUser(SendContext context, string username)
    {
        if (context is RabbitMqSendContext rabbit) rabbit.BasicProperties.UserId = username;
        else if (context.TryGetPayload<RabbitMqSendContext>(out var payload)) payload.BasicProperties.UserId = username;
    }
}
