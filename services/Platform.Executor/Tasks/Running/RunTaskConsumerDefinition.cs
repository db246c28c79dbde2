using System.Net.Mime;
using MassTransit;
using Microsoft.Extensions.Options;
using Platform.Executor.Tasks.Draining;
using Platform.Messaging;

namespace Platform.Executor.Tasks.Running;

internal sealed class RunTaskConsumerDefinition : ConsumerDefinition<RunTaskConsumer>
{
    private readonly ExecutorOptions _options;
    private readonly RunTaskIntake _intake;

    public RunTaskConsumerDefinition(IOptions<ExecutorOptions> options, RunTaskIntake intake)
    {
        _options = options.Value;
        _intake = intake;
        ConcurrentMessageLimit = _options.ClaimConcurrency;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<RunTaskConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = _options.ClaimConcurrency;
        endpoint.ConnectReceiveEndpointObserver(_intake);
        // Outside publishers may send bare JSON without a content type: read it as the RunTask itself.
        endpoint.DefaultContentType = new ContentType(WireFormat.RawJsonContentType);
        // Transient faults (a database restart takes seconds) are retried for about half a minute; a message
        // that can never run is not retried. One that still fails is re-dispatched later from the store.
        endpoint.UseMessageRetry(r =>
        {
            r.Ignore<RunTaskRejected>();
            r.Ignore<RunTaskUnauthorized>();
            r.Ignore<OperationCanceledException>(); // the intake closed: the delivery goes back to the queue
            r.Exponential(8, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500));
        });
        // After the retry filter, so that each attempt waits for a slot of its own (the consumer frees it on failure).
        endpoint.UseFilter(_intake);
    }
}
