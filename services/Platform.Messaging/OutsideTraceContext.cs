using System.Diagnostics;
using System.Text;
using MassTransit;
using Platform.ServiceDefaults;

namespace Platform.Messaging;

/// <summary>
/// Continues the trace of an outside publisher that sent a bare message with a W3C <c>traceparent</c>
/// header. MassTransit 8 continues a trace only from its own <c>MT-Activity-Id</c> header, so for such a
/// message its receive span starts a new trace. This filter then opens a consumer span in the publisher's
/// trace (linked to MassTransit's own receive span), and everything the consumer does runs inside it.
/// See docs/wire-format.md.
/// </summary>
public sealed class OutsideTraceContext : IFilter<ConsumeContext>
{
    private const string MassTransitActivityId = "MT-Activity-Id";
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    private static readonly ActivitySource Source = new(ServiceDefaultsRegistration.TelemetryName);

    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        var headers = context.ReceiveContext.TransportHeaders;
        if (headers.TryGetHeader(MassTransitActivityId, out _)
            || Text(headers, TraceParent) is not { } traceParent
            || !ActivityContext.TryParse(traceParent, Text(headers, TraceState), isRemote: true, out var parent))
        {
            await next.Send(context);
            return;
        }

        var endpoint = context.ReceiveContext.InputAddress.AbsolutePath.Split('/')[^1];
        var links = Activity.Current is { } receive ? new[] { new ActivityLink(receive.Context) } : null;
        using var activity = Source.StartActivity($"{endpoint} receive", ActivityKind.Consumer, parent, links: links);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation", "receive");
        activity?.SetTag("messaging.destination.name", endpoint);
        if (context.MessageId is { } messageId) activity?.SetTag("messaging.message.id", messageId.ToString());
        await next.Send(context);
    }

    // AMQP header values arrive as bytes unless the publisher sent a typed string.
    private static string? Text(Headers headers, string name) =>
        headers.TryGetHeader(name, out var value) ? value switch
        {
            string text => text,
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            _ => null,
        } : null;

    public void Probe(ProbeContext context) => context.CreateFilterScope("outsideTraceContext");
}
