using System.Globalization;
using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Marten;
using Microsoft.Extensions.Options;
using Platform.Executor.Tasks.Running;
using Platform.Executor.Tasks.Runtime;
using Platform.TaskStore.Logs;
using Platform.TaskStore.Tasks;

namespace Platform.Executor.Tasks.Kubernetes;

/// <summary>
/// Runs each task as a Pod (<see cref="TaskPod"/>) in <see cref="KubernetesOptions.Namespace"/>: creates it,
/// watches it to its end (list, then watch from the list's resourceVersion; a watch that ends is resumed,
/// one answered 410 Gone is replaced by a new list), follows its container's log into the task's log, and
/// deletes it (with its Secret) when the task ended. A cancel deletes the Pod with the task's grace period
/// (the kubelet sends SIGTERM, then SIGKILL). The cluster enforces the limits: memory (OOMKilled), the
/// timeout (activeDeadlineSeconds: DeadlineExceeded) and the disk (ephemeral-storage: Evicted).
/// </summary>
internal sealed class KubernetesRuntime(
    IKubernetes client, IOptions<KubernetesOptions> options, IOptions<ExecutorOptions> executor, IDocumentStore store, ILogger<KubernetesRuntime> logger)
    : ITaskRuntime
{
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly string _namespace = options.Value.Namespace;
    private readonly string _executor = TaskPod.LabelValue(executor.Value.Name);

    public bool EnforcesTimeout => true;

    public async Task ProbeAsync(CancellationToken ct)
    {
        try
        {
            await client.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: ManagedSelector, limit: 1, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or KubernetesException)
        {
            throw new InvalidOperationException(
                $"Cannot run tasks on Kubernetes: listing Pods in namespace '{_namespace}' at {client.BaseUri} failed: {Describe(ex)}", ex);
        }
        logger.LogInformation("Tasks run as Pods in namespace {Namespace} at {Server}; default image {Image}", _namespace, client.BaseUri, options.Value.DefaultImage);
    }

    public async Task<ProcessOutcome> RunAsync(ClaimedTask task, TaskOutput output, TaskTermination termination)
    {
        var pod = TaskPod.Build(task, options.Value, executor.Value.Name);
        try
        {
            if (TaskPod.Secret(task, _namespace, executor.Value.Name) is { } secret)
                await CreateAsync(() => client.CoreV1.CreateNamespacedSecretAsync(secret, _namespace, cancellationToken: termination.Requested));
            // AlreadyExists: a redelivery after this executor made the Pod and died before it recorded more; follow that one.
            await CreateAsync(() => client.CoreV1.CreateNamespacedPodAsync(pod, _namespace, cancellationToken: termination.Requested));
        }
        catch (OperationCanceledException) when (termination.Reason is { } reason)
        {
            await RemoveAsync(pod.Metadata.Name, CancellationToken.None);
            return new ProcessOutcome(null, reason);
        }
        catch (HttpOperationException ex)
        {
            await RemoveAsync(pod.Metadata.Name, CancellationToken.None);
            return new ProcessOutcome(null, $"the task's Pod could not be created: {Describe(ex)}");
        }
        return await FollowAsync(task, pod.Metadata.Name, output, termination, storedUpTo: null);
    }

    public async Task<IReadOnlySet<Guid>> FindSurvivorsAsync(CancellationToken ct)
    {
        var pods = await client.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: $"{ManagedSelector},{TaskPod.ExecutorLabel}={_executor}", cancellationToken: ct);
        return pods.Items.Select(p => TaskPod.TaskIdOf(p.Metadata)).OfType<Guid>().ToHashSet();
    }

    public Task<ProcessOutcome> ReattachAsync(ClaimedTask task, TaskOutput output, TaskTermination termination, DateTimeOffset? storedUpTo) =>
        FollowAsync(task, TaskPod.Name(task), output, termination, storedUpTo);

    /// <summary>
    /// Deletes the platform's Pods whose task does not run any more: this executor's that were not reattached,
    /// and any other executor's whose task has ended (reaped after its executor was lost, or deleted); then the
    /// Secrets no Pod is left for.
    /// </summary>
    public async Task CollectAsync(IReadOnlySet<Guid> keep, CancellationToken ct)
    {
        var pods = (await client.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: ManagedSelector, cancellationToken: ct)).Items;
        var ids = pods.Select(p => TaskPod.TaskIdOf(p.Metadata)).OfType<Guid>().Distinct().ToList();
        await using var session = store.QuerySession();
        var running = (await session.LoadManyAsync<AppTask>(ct, ids))
            .Where(t => t.State is TaskState.Running or TaskState.Canceling).Select(t => t.Id).ToHashSet();
        var kept = new HashSet<Guid>();
        foreach (var pod in pods)
        {
            var taskId = TaskPod.TaskIdOf(pod.Metadata);
            var mine = pod.Metadata.Labels is { } labels && labels.TryGetValue(TaskPod.ExecutorLabel, out var owner) && owner == _executor;
            var stays = taskId is { } id && (mine ? keep.Contains(id) : running.Contains(id));
            if (stays)
            {
                kept.Add(taskId!.Value);
                continue;
            }
            logger.LogInformation("Deleting Pod {Pod}: its task {TaskId} does not run any more", pod.Metadata.Name, taskId);
            await DeleteAsync(() => client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, _namespace, new V1DeleteOptions { GracePeriodSeconds = 0 }, cancellationToken: ct));
        }
        var secrets = (await client.CoreV1.ListNamespacedSecretAsync(_namespace, labelSelector: ManagedSelector, cancellationToken: ct)).Items;
        foreach (var secret in secrets.Where(s => TaskPod.TaskIdOf(s.Metadata) is not { } id || !kept.Contains(id)))
            await DeleteAsync(() => client.CoreV1.DeleteNamespacedSecretAsync(secret.Metadata.Name, _namespace, cancellationToken: ct));
    }

    private static string ManagedSelector => $"{TaskPod.ManagedByLabel}={TaskPod.ManagedBy}";

    private async Task<ProcessOutcome> FollowAsync(ClaimedTask task, string name, TaskOutput output, TaskTermination termination, DateTimeOffset? storedUpTo)
    {
        using var stop = new CancellationTokenSource();
        var states = Channel.CreateUnbounded<V1Pod?>(new UnboundedChannelOptions { SingleReader = true });
        var watching = WatchAsync(name, states.Writer, stop.Token);
        Task? logs = null;
        Task? deleting = null;
        ProcessOutcome outcome;
        using (termination.Requested.Register(() => deleting ??= DeletePodAsync(name, termination.GracePeriod)))
        {
            outcome = await NextOutcomeAsync();
        }
        // The log ends with the container; what it still carries is read before the Pod goes.
        if (logs is not null && await Task.WhenAny(logs, Task.Delay(OutputDrainTimeout)) != logs)
            logger.LogWarning("Task {TaskId}: the log of Pod {Pod} did not end {Timeout} after the task", task.TaskId, name, OutputDrainTimeout);
        await stop.CancelAsync();
        await watching;
        if (logs is not null) await logs;
        if (deleting is not null) await deleting;
        await RemoveAsync(name, CancellationToken.None);
        return termination.Reason is { } reason ? new ProcessOutcome(null, reason) : outcome;

        async Task<ProcessOutcome> NextOutcomeAsync()
        {
            await foreach (var pod in states.Reader.ReadAllAsync(CancellationToken.None))
            {
                if (pod is null)
                    return new ProcessOutcome(null, termination.Reason ?? "the task's Pod was deleted before it ended");
                if (logs is null && PodOutcome.Started(pod)) logs = FollowLogAsync(name, output, storedUpTo, stop.Token);
                if (PodOutcome.Of(pod, task) is { } ended) return ended;
            }
            return new ProcessOutcome(null, "the task's Pod could no longer be watched");
        }
    }

    /// <summary>
    /// The Pod's states as they change, null once it is gone. A list gives the state and a resourceVersion; a
    /// watch from there gives the changes. When the watch ends (servers end them after a while) it is resumed
    /// from the last version seen; when that version is too old (410 Gone) the Pod is listed again.
    /// </summary>
    private async Task WatchAsync(string name, ChannelWriter<V1Pod?> states, CancellationToken ct)
    {
        var selector = $"metadata.name={name}";
        string? version = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    if (version is null)
                    {
                        var list = await client.CoreV1.ListNamespacedPodAsync(_namespace, fieldSelector: selector, cancellationToken: ct);
                        var current = list.Items.FirstOrDefault();
                        await states.WriteAsync(current, ct);
                        if (current is null) return;
                        version = list.Metadata.ResourceVersion;
                    }
                    var gone = false;
                    var events = client.CoreV1.WatchListNamespacedPodAsync(_namespace, fieldSelector: selector, resourceVersion: version,
                        allowWatchBookmarks: true, timeoutSeconds: 300, onError: error =>
                        {
                            if (error is KubernetesException { Status.Code: 410 }) gone = true;
                            else logger.LogWarning("Watching Pod {Pod}: {Error}", name, error.Message);
                        }, cancellationToken: ct);
                    await foreach (var (type, pod) in events)
                    {
                        version = pod.Metadata?.ResourceVersion ?? version;
                        if (type == WatchEventType.Bookmark) continue;
                        if (type == WatchEventType.Deleted)
                        {
                            await states.WriteAsync(pod, ct);
                            await states.WriteAsync(null, ct);
                            return;
                        }
                        await states.WriteAsync(pod, ct);
                    }
                    if (gone)
                    {
                        logger.LogInformation("Watching Pod {Pod}: resourceVersion {Version} is gone (410); listing again", name, version);
                        version = null;
                    }
                }
                catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Gone)
                {
                    version = null;
                }
                catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException or KubernetesException)
                {
                    logger.LogWarning("Watching Pod {Pod} failed ({Error}); retrying", name, Describe(ex));
                    await Task.Delay(RetryDelay, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            states.TryComplete();
        }
    }

    /// <summary>
    /// Follows the container's log (with the runtime's timestamps, which become the lines' times) until it ends
    /// with the container. A broken stream is followed again, skipping what was stored already.
    /// </summary>
    private async Task FollowLogAsync(string name, TaskOutput output, DateTimeOffset? storedUpTo, CancellationToken ct)
    {
        // Lines up to this time were stored before (by a previous run of the executor, or before the stream
        // broke). stdout and stderr arrive merged and not quite in time order, so only a replay is filtered.
        var skipUpTo = storedUpTo;
        DateTimeOffset? latest = storedUpTo;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(name, _namespace, container: TaskPod.Container, follow: true,
                    timestamps: true, cancellationToken: ct);
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    var (at, text) = ParseLogLine(line);
                    if (skipUpTo is { } stored && Truncate(at) <= Truncate(stored)) continue;
                    await output.WriteLineAsync(LogStream.Stdout, at, text);
                    if (latest is null || at > latest) latest = at;
                }
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException)
            {
                logger.LogWarning("Following the log of Pod {Pod} failed ({Error}); following it again", name, Describe(ex));
                skipUpTo = latest;
                try
                {
                    await Task.Delay(RetryDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>A line of a log read with timestamps=true: an RFC 3339 time with up to nanoseconds, a space, the line.</summary>
    public static (DateTimeOffset At, string Line) ParseLogLine(string line)
    {
        var space = line.IndexOf(' ');
        var stamp = space < 0 ? line : line[..space];
        var text = space < 0 ? "" : line[(space + 1)..];
        var dot = stamp.IndexOf('.');
        if (dot > 0 && stamp.EndsWith('Z'))
        {
            var fraction = stamp[(dot + 1)..^1];
            stamp = $"{stamp[..dot]}.{(fraction + "0000000")[..7]}Z";
        }
        return DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? (at, text)
            : (DateTimeOffset.UtcNow, line);
    }

    // The log table keeps microseconds.
    private static long Truncate(DateTimeOffset at) => at.UtcTicks / 10;

    private async Task DeletePodAsync(string name, TimeSpan grace)
    {
        try
        {
            await DeleteAsync(() => client.CoreV1.DeleteNamespacedPodAsync(name, _namespace,
                new V1DeleteOptions { GracePeriodSeconds = (long)grace.TotalSeconds }));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Deleting Pod {Pod} failed", name);
        }
    }

    /// <summary>The ended task's Pod and Secret go at once: its output and end are stored.</summary>
    private async Task RemoveAsync(string name, CancellationToken ct)
    {
        try
        {
            await DeleteAsync(() => client.CoreV1.DeleteNamespacedPodAsync(name, _namespace, new V1DeleteOptions { GracePeriodSeconds = 0 }, cancellationToken: ct));
            await DeleteAsync(() => client.CoreV1.DeleteNamespacedSecretAsync(name, _namespace, cancellationToken: ct));
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException)
        {
            // Collected at the next start of an executor (CollectAsync).
            logger.LogWarning("Removing Pod {Pod} failed ({Error}); it is collected later", name, Describe(ex));
        }
    }

    private static async Task CreateAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
    }

    private static async Task DeleteAsync<T>(Func<Task<T>> delete)
    {
        try
        {
            await delete();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        HttpOperationException http => $"{(int)http.Response.StatusCode} {http.Response.Content}",
        KubernetesException kubernetes => kubernetes.Status?.Message ?? kubernetes.Message,
        _ => ex.Message,
    };
}
