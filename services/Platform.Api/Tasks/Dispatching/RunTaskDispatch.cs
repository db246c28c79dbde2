using MassTransit;
using Platform.Contracts;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Tasks.Dispatching;

/// <summary>
/// Publishes an accepted task's <see cref="RunTask"/> without making the request wait on the broker. The
/// task is already stored when this runs, so the answer (202) does not depend on the publish: when
/// RabbitMQ is slow or unreachable the request returns after <see cref="RequestWait"/> and the publish goes
/// on in the background (MassTransit reconnects) for up to <see cref="PublishLimit"/>; a task whose publish
/// never got through is published again from the store by the executors' re-dispatcher once it is back.
/// </summary>
internal sealed class RunTaskDispatch(IBus bus, ILogger<RunTaskDispatch> logger)
{
    // A publish with confirms takes a few milliseconds when the broker is there (docs/benchmarks.md).
    public static readonly TimeSpan RequestWait = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan PublishLimit = TimeSpan.FromSeconds(60);

    /// <summary>Starts the publish and waits for it at most <see cref="RequestWait"/>; true if it was confirmed in that time.</summary>
    public async Task<bool> DispatchAsync(AppTask task)
    {
        // The singleton bus, not the request's scoped publish endpoint: the publish may outlive the request.
        var publish = PublishAsync(task);
        return await Task.WhenAny(publish, Task.Delay(RequestWait)) == publish && await publish;
    }

    private async Task<bool> PublishAsync(AppTask task)
    {
        using var limit = new CancellationTokenSource(PublishLimit);
        try
        {
            await bus.Publish(TaskMessages.RunTask(task), limit.Token);
            return true;
        }
        catch (Exception ex)
        {
            logger.LogWarning("Publishing RunTask for task {TaskId} failed ({Error}); the task is stored and will be re-dispatched from the store",
                task.Id, ex.Message);
            return false;
        }
    }
}
