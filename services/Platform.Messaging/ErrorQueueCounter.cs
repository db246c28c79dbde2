using System.Diagnostics.Metrics;
using MassTransit;
using Platform.ServiceDefaults;

namespace Platform.Messaging;

/// <summary>
/// Counts the messages a receive endpoint moves to its <c>_error</c> queue (<c>platform.messages.error_queued</c>),
/// the number an operator alerts on. MassTransit's own meter counts consume faults, but a fault that a
/// retry later heals is counted there too; the error pipe runs only for a message that is given up on.
/// </summary>
public sealed class ErrorQueueCounter : IFilter<ExceptionReceiveContext>
{
    private readonly Counter<long> _errorQueued;

    public ErrorQueueCounter(IMeterFactory meters)
    {
        _errorQueued = meters.Create(ServiceDefaultsRegistration.TelemetryName).CreateCounter<long>(
            "platform.messages.error_queued", "{message}", "Messages moved to an error queue after every retry failed.");
    }

    public Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        _errorQueued.Add(1,
            new KeyValuePair<string, object?>("messaging.destination.name", context.InputAddress.AbsolutePath.Split('/')[^1]),
            new KeyValuePair<string, object?>("error.type", context.Exception.GetType().Name));
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("errorQueueCounter");

    /// <summary>The error pipe MassTransit builds by default (a Fault published, the message moved), counted first.</summary>
    internal static void AddTo(IReceiveEndpointConfigurator endpoint, ErrorQueueCounter counter, string ownUser) =>
        endpoint.ConfigureError(error =>
        {
            error.UseFilter(counter);
            error.UseFilter(new MassTransit.Middleware.GenerateFaultFilter());
            error.UseFilter(new ForeignUserErrorTransport(ownUser));
        });
}
