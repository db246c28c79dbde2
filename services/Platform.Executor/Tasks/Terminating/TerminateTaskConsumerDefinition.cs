using MassTransit;
using Microsoft.Extensions.Options;

namespace Platform.Executor.Tasks.Terminating;

/// <summary>A queue per executor instance (named after it), deleted when the instance goes away.</summary>
internal sealed class TerminateTaskConsumerDefinition : ConsumerDefinition<TerminateTaskConsumer>
{
    public TerminateTaskConsumerDefinition(IOptions<ExecutorOptions> options)
    {
        Endpoint(e =>
        {
            e.InstanceId = options.Value.Name;
            e.Temporary = true;
        });
    }
}
