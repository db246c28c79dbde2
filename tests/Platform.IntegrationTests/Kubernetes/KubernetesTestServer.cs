using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.IntegrationTests.Kubernetes;

/// <summary>
/// The part of the Kubernetes API the executor's Kubernetes runtime uses, served in the test process by
/// Kestrel, with a kubelet behind it that runs each Pod as a real Docker container:
/// <list type="bullet">
/// <item>Pods: create, get, list and watch (label and field selectors, resourceVersion, no bookmarks, 410 Gone
/// as an ERROR event carrying a Status once the history a watch asks for was compacted), delete with a grace
/// period (the container gets SIGTERM, then SIGKILL: <c>docker stop -t</c>), and pods/log with follow and timestamps;</item>
/// <item>Secrets: create, get, list, delete; a Pod's <c>secretKeyRef</c> variables are read from them when its container starts;</item>
/// <item>errors as <c>Status</c> bodies with the codes and reasons a real API server gives (404 NotFound,
/// 409 AlreadyExists, 422 Invalid, 400 BadRequest, 403 Forbidden for the restricted Pod Security Standard).</item>
/// </list>
/// Request bodies are read into KubernetesClient's own models with unknown fields rejected. The kubelet
/// enforces what a node would: the memory limit (the container is OOM-killed and reported OOMKilled),
/// activeDeadlineSeconds (the Pod fails with DeadlineExceeded), runAsNonRoot, and image presence (an image
/// the engine does not hold is ErrImagePull: no registry is reachable here). Not served: everything else
/// (Jobs, PATCH, server-side apply, eviction of ephemeral storage, scheduling).
/// </summary>
public sealed partial class KubernetesTestServer : IAsyncDisposable
{
    public const string Namespace = "platform-tasks";
    private static readonly JsonSerializerOptions Strict = StrictOptions();

    private readonly object _gate = new();
    private readonly Dictionary<string, PodState> _pods = new();
    private readonly Dictionary<string, V1Secret> _secrets = new();
    private readonly List<HistoryEntry> _history = [];
    private readonly List<Watcher> _watchers = [];
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private long _version = 1000;
    private long _oldestKept;
    private WebApplication _app = null!;

    public Uri Url { get; private set; } = null!;

    /// <summary>The grace period of every DELETE of a Pod, by Pod name (the last one).</summary>
    public ConcurrentDictionary<string, long> DeleteGracePeriods { get; } = new();

    /// <summary>Every Pod as it was created (the request body), by name.</summary>
    public ConcurrentDictionary<string, string> CreatedPods { get; } = new();

    /// <summary>Exceptions this server threw while answering (a bug of the test server, not of the runtime).</summary>
    public ConcurrentQueue<string> Faults { get; } = new();

    /// <summary>How many watches were answered 410 Gone.</summary>
    public int GoneAnswers => Volatile.Read(ref _goneAnswers);

    private int _goneAnswers;

    private sealed record HistoryEntry(long Version, string Name, IDictionary<string, string> Labels, string Line);

    private sealed class Watcher(Func<string, IDictionary<string, string>, bool> matches)
    {
        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();
        public CancellationTokenSource Closed { get; } = new();
        public bool Matches(string name, IDictionary<string, string> labels) => matches(name, labels);
    }

    private sealed class PodState(V1Pod pod)
    {
        public V1Pod Pod { get; } = pod;
        public string Container { get; init; } = "";
        public SemaphoreSlim StartGate { get; } = new(1, 1);
        public bool Started { get; set; }
        public bool Deleting { get; set; }
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenSource Stopping { get; } = new();
    }

    public static async Task<KubernetesTestServer> StartAsync()
    {
        var server = new KubernetesTestServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        server._app = builder.Build();
        server._app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A fault of this server, not an answer a real one would give: recorded, so that a test can show it.
                server.Faults.Enqueue($"{http.Request.Method} {http.Request.Path}{http.Request.QueryString}: {ex}");
                if (!http.Response.HasStarted) await StatusAsync(http, 500, "InternalError", ex.Message);
            }
        });
        server.Map(server._app);
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    /// <summary>Ends every open watch now, as an API server does after its watch timeout.</summary>
    public void CloseWatches()
    {
        lock (_gate) foreach (var watcher in _watchers) watcher.Closed.Cancel();
    }

    /// <summary>Forgets the event history (as etcd's compaction does, while other objects moved the version on): a watch resumed from before now gets 410 Gone.</summary>
    public void CompactHistory()
    {
        lock (_gate)
        {
            _version += 10;
            _oldestKept = _version;
            _history.Clear();
        }
    }

    public bool HasPod(string name)
    {
        lock (_gate) return _pods.ContainsKey(name);
    }

    public bool HasSecret(string name)
    {
        lock (_gate) return _secrets.ContainsKey(name);
    }

    public IReadOnlyList<string> PodNames()
    {
        lock (_gate) return _pods.Keys.ToList();
    }

    /// <summary>Whether a container of this server still exists in the engine (by Pod name).</summary>
    public async Task<bool> ContainerExistsAsync(string pod) =>
        (await DockerEngine.RunAsync(["container", "inspect", "--format", "{{.Id}}", ContainerName(pod)])).ExitCode == 0;

    private string ContainerName(string pod) => $"k8s-test-{_id}-{pod}";

    private void Map(WebApplication app)
    {
        const string pods = "/api/v1/namespaces/{ns}/pods";
        const string secrets = "/api/v1/namespaces/{ns}/secrets";
        app.MapGet(pods, (string ns, HttpContext http) => InNamespace(ns, http, () => ListOrWatchPodsAsync(http)));
        app.MapPost(pods, (string ns, HttpContext http) => InNamespace(ns, http, () => CreatePodAsync(ns, http)));
        app.MapGet(pods + "/{name}", (string ns, string name, HttpContext http) => InNamespace(ns, http, () => ReadPodAsync(name, http)));
        app.MapDelete(pods + "/{name}", (string ns, string name, HttpContext http) => InNamespace(ns, http, () => DeletePodAsync(name, http)));
        app.MapGet(pods + "/{name}/log", (string ns, string name, HttpContext http) => InNamespace(ns, http, () => PodLogAsync(name, http)));
        app.MapGet(secrets, (string ns, HttpContext http) => InNamespace(ns, http, () => ListSecretsAsync(http)));
        app.MapPost(secrets, (string ns, HttpContext http) => InNamespace(ns, http, () => CreateSecretAsync(ns, http)));
        app.MapGet(secrets + "/{name}", (string ns, string name, HttpContext http) => InNamespace(ns, http, () => ReadSecretAsync(name, http)));
        app.MapDelete(secrets + "/{name}", (string ns, string name, HttpContext http) => InNamespace(ns, http, () => DeleteSecretAsync(name, http)));
        app.MapFallback((HttpContext http) => StatusAsync(http, 404, "NotFound", "the server could not find the requested resource"));
    }

    private static Task InNamespace(string ns, HttpContext http, Func<Task> handle) =>
        ns == Namespace ? handle() : StatusAsync(http, 404, "NotFound", $"namespaces \"{ns}\" not found", ns, "namespaces");

    // ---- Pods -------------------------------------------------------------------------------------------

    private async Task CreatePodAsync(string ns, HttpContext http)
    {
        Refusal? refusal = null;
        var (pod, body) = await ReadStrictAsync<V1Pod>(http);
        if (pod is null)
        {
            await StatusAsync(http, 400, "BadRequest", $"strict decoding error: {body}");
            return;
        }
        if (PodProblem(pod, ns) is { } problem)
        {
            await StatusAsync(http, problem.Code, problem.Reason, problem.Message, pod.Metadata?.Name, "pods");
            return;
        }
        var name = pod.Metadata.Name;
        PodState state;
        string created;
        lock (_gate)
        {
            if (_pods.ContainsKey(name))
            {
                refusal = new Refusal(409, "AlreadyExists", $"pods \"{name}\" already exists", name, "pods");
                goto refused;
            }
            pod.ApiVersion = "v1";
            pod.Kind = "Pod";
            pod.Metadata.NamespaceProperty = ns;
            pod.Metadata.Uid = Guid.NewGuid().ToString();
            pod.Metadata.CreationTimestamp = DateTime.UtcNow;
            pod.Status = new V1PodStatus { Phase = "Pending", QosClass = "Burstable" };
            state = new PodState(pod) { Container = ContainerName(name) };
            _pods[name] = state;
            CreatedPods[name] = body;
            Emit(state, WatchEventType.Added);
            created = KubernetesJson.Serialize(pod);
        }
        _ = Task.Run(() => KubeletAsync(state));
        await WriteJsonAsync(http, 201, created);
        return;
    refused:
        await StatusAsync(http, refusal!);
    }

    private async Task ReadPodAsync(string name, HttpContext http)
    {
        Refusal? refusal = null;
        string json;
        lock (_gate)
        {
            if (!_pods.TryGetValue(name, out var state))
            {
                refusal = new Refusal(404, "NotFound", $"pods \"{name}\" not found", name, "pods");
                goto refused;
            }
            json = KubernetesJson.Serialize(state.Pod);
        }
        await WriteJsonAsync(http, 200, json);
        return;
    refused:
        await StatusAsync(http, refusal!);
    }

    private async Task ListOrWatchPodsAsync(HttpContext http)
    {
        var query = http.Request.Query;
        if (Selector(query["labelSelector"], query["fieldSelector"]) is not { } matches)
        {
            await StatusAsync(http, 400, "BadRequest", $"unable to parse requirement: {query["labelSelector"]} {query["fieldSelector"]}");
            return;
        }
        if (query["watch"] is ["true" or "1"])
        {
            await WatchPodsAsync(http, matches, query["resourceVersion"].ToString(), int.TryParse(query["timeoutSeconds"], out var timeout) ? timeout : null);
            return;
        }
        string json;
        lock (_gate)
        {
            var list = new V1PodList
            {
                ApiVersion = "v1", Kind = "PodList", Metadata = new V1ListMeta { ResourceVersion = _version.ToString() },
                Items = _pods.Values.Where(p => matches(p.Pod.Metadata.Name, Labels(p.Pod.Metadata))).Select(p => p.Pod).ToList(),
            };
            json = KubernetesJson.Serialize(list);
        }
        await WriteJsonAsync(http, 200, json);
    }

    private async Task WatchPodsAsync(HttpContext http, Func<string, IDictionary<string, string>, bool> matches, string from, int? timeoutSeconds)
    {
        var watcher = new Watcher(matches);
        long? tooOld = null;
        long? version = null;
        if (from is { Length: > 0 } and not "0")
        {
            if (!long.TryParse(from, out var given))
            {
                await StatusAsync(http, 400, "BadRequest", $"invalid resource version: {from}");
                return;
            }
            version = given;
        }
        lock (_gate)
        {
            if (version is not null)
            {
                if (version < _oldestKept) tooOld = version;
                else
                    foreach (var entry in _history.Where(e => e.Version > version && matches(e.Name, e.Labels)))
                        watcher.Lines.Writer.TryWrite(entry.Line);
            }
            else
            {
                foreach (var state in _pods.Values.Where(p => matches(p.Pod.Metadata.Name, Labels(p.Pod.Metadata))))
                    watcher.Lines.Writer.TryWrite(EventLine(WatchEventType.Added, state.Pod));
            }
            if (tooOld is null) _watchers.Add(watcher);
        }
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.StartAsync();
        if (tooOld is { } old)
        {
            Interlocked.Increment(ref _goneAnswers);
            var status = StatusJson(410, "Failure", "Expired", $"too old resource version: {old} ({_oldestKept})");
            await http.Response.WriteAsync($"{{\"type\":\"ERROR\",\"object\":{status}}}\n");
            return;
        }
        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, watcher.Closed.Token);
        end.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds ?? 1800));
        try
        {
            await foreach (var line in watcher.Lines.Reader.ReadAllAsync(end.Token))
            {
                await http.Response.WriteAsync(line + "\n", end.Token);
                await http.Response.Body.FlushAsync(end.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_gate) _watchers.Remove(watcher);
        }
    }

    private async Task DeletePodAsync(string name, HttpContext http)
    {
        Refusal? refusal = null;
        var (options, body) = http.Request.ContentLength is > 0 ? await ReadStrictAsync<V1DeleteOptions>(http) : (new V1DeleteOptions(), "");
        if (options is null)
        {
            await StatusAsync(http, 400, "BadRequest", $"strict decoding error: {body}");
            return;
        }
        PodState? state;
        long grace;
        string deleted;
        lock (_gate)
        {
            if (!_pods.TryGetValue(name, out state))
            {
                refusal = new Refusal(404, "NotFound", $"pods \"{name}\" not found", name, "pods");
                goto refused;
            }
            grace = options.GracePeriodSeconds
                    ?? (long.TryParse(http.Request.Query["gracePeriodSeconds"], out var given) ? given : (long?)null)
                    ?? state.Pod.Spec.TerminationGracePeriodSeconds ?? 30;
            if (grace < 0)
            {
                refusal = new Refusal(422, "Invalid", "gracePeriodSeconds: Invalid value: must be >= 0", name, "pods");
                goto refused;
            }
            DeleteGracePeriods[name] = grace;
            if (!state.Deleting)
            {
                state.Deleting = true;
                state.Pod.Metadata.DeletionTimestamp = DateTime.UtcNow.AddSeconds(grace);
                state.Pod.Metadata.DeletionGracePeriodSeconds = grace;
                Emit(state, WatchEventType.Modified);
                _ = Task.Run(() => FinishDeletionAsync(state, grace));
            }
            deleted = KubernetesJson.Serialize(state.Pod);
        }
        await WriteJsonAsync(http, 200, deleted);
        return;
    refused:
        await StatusAsync(http, refusal!);
    }

    /// <summary>The kubelet's part of a deletion: stop the container within the grace period, then the object goes.</summary>
    private async Task FinishDeletionAsync(PodState state, long grace)
    {
        await state.StartGate.WaitAsync();
        var started = state.Started;
        state.StartGate.Release();
        if (started)
        {
            await DockerEngine.RunAsync(["stop", "-t", grace.ToString(), state.Container]);
            await state.Ended.Task.WaitAsync(TimeSpan.FromSeconds(grace + 30));
        }
        await state.Stopping.CancelAsync();
        lock (_gate)
        {
            _pods.Remove(state.Pod.Metadata.Name);
            Emit(state, WatchEventType.Deleted);
        }
        await DockerEngine.RunAsync(["rm", "-f", state.Container]);
    }

    private async Task PodLogAsync(string name, HttpContext http)
    {
        var query = http.Request.Query;
        string container = "";
        Refusal? refusal;
        lock (_gate) refusal = LogRefusal(name, query["container"], out container);
        if (refusal is not null)
        {
            await StatusAsync(http, refusal);
            return;
        }
        List<string> arguments = ["logs"];
        if (query["follow"] is ["true" or "1"]) arguments.Add("--follow");
        if (query["timestamps"] is ["true" or "1"]) arguments.Add("--timestamps");
        arguments.Add(container);
        using var process = DockerEngine.Start(arguments);
        http.Response.StatusCode = 200;
        http.Response.ContentType = "text/plain";
        await http.Response.StartAsync();
        using var writing = new SemaphoreSlim(1, 1);
        async Task PumpAsync(StreamReader reader)
        {
            while (await reader.ReadLineAsync(http.RequestAborted) is { } line)
            {
                await writing.WaitAsync(http.RequestAborted);
                try
                {
                    await http.Response.WriteAsync(line + "\n", http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                }
                finally
                {
                    writing.Release();
                }
            }
        }
        try
        {
            await Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            if (!process.HasExited) process.Kill();
        }
    }

    private Refusal? LogRefusal(string name, string? asked, out string container)
    {
        container = "";
        if (!_pods.TryGetValue(name, out var state)) return new Refusal(404, "NotFound", $"pods \"{name}\" not found", name, "pods");
        var only = state.Pod.Spec.Containers[0].Name;
        if (!string.IsNullOrEmpty(asked) && asked != only) return new Refusal(400, "BadRequest", $"container {asked} is not valid for pod {name}");
        if (!state.Started)
        {
            var waiting = state.Pod.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason ?? "ContainerCreating";
            return new Refusal(400, "BadRequest", $"container \"{only}\" in pod \"{name}\" is waiting to start: {waiting}");
        }
        container = state.Container;
        return null;
    }

    // ---- the kubelet ------------------------------------------------------------------------------------

    private async Task KubeletAsync(PodState state)
    {
        var spec = state.Pod.Spec;
        var container = spec.Containers[0];
        lock (_gate)
        {
            state.Pod.Status.StartTime = DateTime.UtcNow;
            state.Pod.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = DateTime.UtcNow }];
            state.Pod.Status.ContainerStatuses = [Waiting(container, "ContainerCreating", null)];
            Emit(state, WatchEventType.Modified);
        }
        if (spec.ActiveDeadlineSeconds is { } deadline) _ = EnforceDeadlineAsync(state, TimeSpan.FromSeconds(deadline));

        if (await StartContainerAsync(state, container) is { } failed)
        {
            lock (_gate)
            {
                state.Pod.Status.ContainerStatuses = [Waiting(container, failed.Reason, failed.Message)];
                Emit(state, WatchEventType.Modified);
            }
            return;
        }
        await DockerEngine.RunAsync(["wait", state.Container]);
        var inspect = await DockerEngine.RunAsync(["inspect", "--format", "{{json .State}}", state.Container]);
        var exited = inspect.ExitCode == 0 ? JsonNode.Parse(inspect.Output)! : null;
        var exitCode = exited?["ExitCode"]?.GetValue<int>() ?? 137;
        var oomKilled = exited?["OOMKilled"]?.GetValue<bool>() ?? false;
        lock (_gate)
        {
            var status = state.Pod.Status;
            status.ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = container.Name, Image = container.Image, ImageID = "", Ready = false, RestartCount = 0, Started = false,
                    ContainerID = status.ContainerStatuses?.FirstOrDefault()?.ContainerID,
                    State = new V1ContainerState
                    {
                        Terminated = new V1ContainerStateTerminated
                        {
                            ExitCode = exitCode, Reason = oomKilled ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error",
                            StartedAt = Time(exited?["StartedAt"]), FinishedAt = Time(exited?["FinishedAt"]) ?? DateTime.UtcNow,
                        },
                    },
                },
            ];
            if (status.Reason != "DeadlineExceeded") status.Phase = exitCode == 0 ? "Succeeded" : "Failed";
            Emit(state, WatchEventType.Modified);
        }
        state.Ended.TrySetResult();
    }

    /// <summary>Pulls (here: finds) the image, checks what the kubelet checks, resolves the variables and starts the container; returns why it could not.</summary>
    private async Task<(string Reason, string Message)?> StartContainerAsync(PodState state, V1Container container)
    {
        if ((await DockerEngine.RunAsync(["image", "inspect", "--format", "{{.Id}}", container.Image])).ExitCode != 0)
            return ("ErrImagePull", $"failed to pull and unpack image \"{container.Image}\": not found (this test server's kubelet pulls from no registry)");
        var security = state.Pod.Spec.SecurityContext;
        var user = container.SecurityContext?.RunAsUser ?? security?.RunAsUser;
        var group = container.SecurityContext?.RunAsGroup ?? security?.RunAsGroup;
        if ((container.SecurityContext?.RunAsNonRoot ?? security?.RunAsNonRoot) == true && user is null or 0)
            return ("CreateContainerConfigError", "container has runAsNonRoot and image will run as root");

        var environment = new Dictionary<string, string>();
        lock (_gate)
        {
            foreach (var variable in container.Env ?? [])
            {
                if (variable.ValueFrom?.SecretKeyRef is { } reference)
                {
                    if (!_secrets.TryGetValue(reference.Name, out var secret)) return ("CreateContainerConfigError", $"secret \"{reference.Name}\" not found");
                    if (secret.Data?.TryGetValue(reference.Key, out var value) != true)
                        return ("CreateContainerConfigError", $"couldn't find key {reference.Key} in Secret {Namespace}/{reference.Name}");
                    environment[variable.Name] = Encoding.UTF8.GetString(value!);
                }
                else environment[variable.Name] = variable.Value ?? "";
            }
        }

        List<string> arguments =
        [
            "run", "--detach", "--name", state.Container, "--label", "platform.tests=1", "--label", $"platform.tests.kubernetes={_id}",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        ];
        if (user is not null) arguments.AddRange(["--user", $"{user}:{group ?? user}"]);
        if (container.Resources?.Limits?.TryGetValue("memory", out var memory) == true)
        {
            var bytes = memory.ToInt64().ToString();
            arguments.AddRange(["--memory", bytes, "--memory-swap", bytes]);
        }
        if (container.Resources?.Limits?.TryGetValue("cpu", out var cpu) == true) arguments.AddRange(["--cpus", cpu.ToDecimal().ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var volume = state.Pod.Spec.Volumes?.FirstOrDefault(v => v.Name == mount.Name);
            if (volume?.EmptyDir is null) return ("CreateContainerConfigError", $"volume {mount.Name}: only emptyDir volumes are served");
            var size = volume.EmptyDir.SizeLimit is { } limit ? $",size={limit.ToInt64()}" : "";
            arguments.AddRange(["--tmpfs", $"{mount.MountPath}:rw,exec,mode=1777{size}"]);
        }
        if (!string.IsNullOrEmpty(container.WorkingDir)) arguments.AddRange(["--workdir", container.WorkingDir]);
        // Values reach docker through its own environment, never its command line.
        foreach (var name in environment.Keys) arguments.AddRange(["--env", name]);
        var command = container.Command ?? [];
        if (command.Count > 0) arguments.AddRange(["--entrypoint", command[0]]);
        arguments.Add(container.Image);
        arguments.AddRange(command.Skip(1));
        arguments.AddRange(container.Args ?? []);

        await state.StartGate.WaitAsync();
        try
        {
            if (state.Deleting) return ("ContainerCreating", "the Pod is being deleted");
            var run = await DockerEngine.RunAsync(arguments, environment);
            if (run.ExitCode != 0) return ("CreateContainerError", run.Error.Trim());
            state.Started = true;
            lock (_gate)
            {
                state.Pod.Status.Phase = "Running";
                state.Pod.Status.ContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Name = container.Name, Image = container.Image, ImageID = "", Ready = true, RestartCount = 0, Started = true,
                        ContainerID = $"docker://{run.Output.Trim()}",
                        State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = DateTime.UtcNow } },
                    },
                ];
                Emit(state, WatchEventType.Modified);
            }
            return null;
        }
        finally
        {
            state.StartGate.Release();
        }
    }

    /// <summary>As the kubelet does: past activeDeadlineSeconds from the Pod's start the Pod fails (DeadlineExceeded) and its container is stopped.</summary>
    private async Task EnforceDeadlineAsync(PodState state, TimeSpan deadline)
    {
        try
        {
            await Task.Delay(deadline, state.Stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (state.Ended.Task.IsCompleted) return;
        lock (_gate)
        {
            state.Pod.Status.Phase = "Failed";
            state.Pod.Status.Reason = "DeadlineExceeded";
            state.Pod.Status.Message = "Pod was active on the node longer than the specified deadline";
            Emit(state, WatchEventType.Modified);
        }
        await state.StartGate.WaitAsync();
        var started = state.Started;
        state.StartGate.Release();
        if (started) await DockerEngine.RunAsync(["stop", "-t", (state.Pod.Spec.TerminationGracePeriodSeconds ?? 30).ToString(), state.Container]);
    }

    private static V1ContainerStatus Waiting(V1Container container, string reason, string? message) => new()
    {
        Name = container.Name, Image = container.Image, ImageID = "", Ready = false, RestartCount = 0, Started = false,
        State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } },
    };

    private static DateTime? Time(JsonNode? node) =>
        node?.GetValue<string>() is { } text && DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal, out var at) && at.Year > 1 ? at : null;

    // ---- Secrets ----------------------------------------------------------------------------------------

    private async Task CreateSecretAsync(string ns, HttpContext http)
    {
        Refusal? refusal = null;
        var (secret, body) = await ReadStrictAsync<V1Secret>(http);
        if (secret is null)
        {
            await StatusAsync(http, 400, "BadRequest", $"strict decoding error: {body}");
            return;
        }
        if (ObjectProblem(secret.Metadata, secret.Kind, "Secret", secret.ApiVersion, ns) is { } problem)
        {
            await StatusAsync(http, problem.Code, problem.Reason, problem.Message.Replace("{kind}", "Secret"), secret.Metadata?.Name, "secrets");
            return;
        }
        var keys = (secret.Data?.Keys ?? []).Concat(secret.StringData?.Keys ?? []);
        if (keys.FirstOrDefault(k => !SecretKey().IsMatch(k)) is { } badKey)
        {
            await StatusAsync(http, 422, "Invalid", $"Secret \"{secret.Metadata.Name}\" is invalid: data[{badKey}]: Invalid value: \"{badKey}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                secret.Metadata.Name, "secrets");
            return;
        }
        lock (_gate)
        {
            if (_secrets.ContainsKey(secret.Metadata.Name))
            {
                refusal = new Refusal(409, "AlreadyExists", $"secrets \"{secret.Metadata.Name}\" already exists", secret.Metadata.Name, "secrets");
                goto refused;
            }
            secret.ApiVersion = "v1";
            secret.Kind = "Secret";
            secret.Metadata.NamespaceProperty = ns;
            secret.Metadata.Uid = Guid.NewGuid().ToString();
            secret.Metadata.ResourceVersion = (++_version).ToString();
            secret.Data ??= new Dictionary<string, byte[]>();
            foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>()) secret.Data[key] = Encoding.UTF8.GetBytes(value);
            secret.StringData = null;
            _secrets[secret.Metadata.Name] = secret;
        }
        await WriteAsync(http, 201, secret);
        return;
    refused:
        await StatusAsync(http, refusal!);
    }

    private async Task ReadSecretAsync(string name, HttpContext http)
    {
        V1Secret? secret;
        lock (_gate) _secrets.TryGetValue(name, out secret);
        if (secret is null) await StatusAsync(http, 404, "NotFound", $"secrets \"{name}\" not found", name, "secrets");
        else await WriteAsync(http, 200, secret);
    }

    private async Task ListSecretsAsync(HttpContext http)
    {
        if (Selector(http.Request.Query["labelSelector"], http.Request.Query["fieldSelector"]) is not { } matches)
        {
            await StatusAsync(http, 400, "BadRequest", "unable to parse requirement");
            return;
        }
        V1SecretList list;
        lock (_gate)
            list = new V1SecretList
            {
                ApiVersion = "v1", Kind = "SecretList", Metadata = new V1ListMeta { ResourceVersion = _version.ToString() },
                Items = _secrets.Values.Where(s => matches(s.Metadata.Name, Labels(s.Metadata))).ToList(),
            };
        await WriteAsync(http, 200, list);
    }

    private async Task DeleteSecretAsync(string name, HttpContext http)
    {
        V1Secret? secret;
        lock (_gate)
        {
            if (_secrets.Remove(name, out secret)) _version++;
        }
        if (secret is null) await StatusAsync(http, 404, "NotFound", $"secrets \"{name}\" not found", name, "secrets");
        else await WriteJsonAsync(http, 200, StatusJson(null, "Success", null, null, name, "secrets"));
    }

    // ---- what a real API server refuses -----------------------------------------------------------------

    private sealed record Problem(int Code, string Reason, string Message);

    private sealed record Refusal(int Code, string Reason, string Message, string? Name = null, string? Kind = null);

    private static Task StatusAsync(HttpContext http, Refusal refusal) =>
        StatusAsync(http, refusal.Code, refusal.Reason, refusal.Message, refusal.Name, refusal.Kind);

    private static Problem? ObjectProblem(V1ObjectMeta? metadata, string? kind, string expectedKind, string? apiVersion, string ns)
    {
        if (kind is { Length: > 0 } && kind != expectedKind || apiVersion is { Length: > 0 } and not "v1")
            return new Problem(400, "BadRequest", $"the API version in the data ({apiVersion}) does not match the expected API version (v1) or the kind {kind} is not {expectedKind}");
        if (metadata?.NamespaceProperty is { Length: > 0 } given && given != ns)
            return new Problem(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        if (string.IsNullOrEmpty(metadata?.Name))
            return new Problem(422, "Invalid", "{kind} \"\" is invalid: metadata.name: Required value: name or generateName is required");
        if (metadata.Name.Length > 253 || !DnsSubdomain().IsMatch(metadata.Name))
            return new Problem(422, "Invalid", $"{{kind}} \"{metadata.Name}\" is invalid: metadata.name: Invalid value: \"{metadata.Name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'");
        foreach (var (key, value) in metadata.Labels ?? new Dictionary<string, string>())
            if (!LabelKey().IsMatch(key) || value.Length > 63 || value.Length > 0 && !LabelValue().IsMatch(value))
                return new Problem(422, "Invalid", $"{{kind}} \"{metadata.Name}\" is invalid: metadata.labels: Invalid value: \"{value}\"");
        return null;
    }

    private static Problem? PodProblem(V1Pod pod, string ns)
    {
        if (ObjectProblem(pod.Metadata, pod.Kind, "Pod", pod.ApiVersion, ns) is { } problem) return problem with { Message = problem.Message.Replace("{kind}", "Pod") };
        var name = pod.Metadata.Name;
        Problem Invalid(string field, string why) => new(422, "Invalid", $"Pod \"{name}\" is invalid: {field}: {why}");
        var spec = pod.Spec;
        if (spec?.Containers is not { Count: > 0 }) return Invalid("spec.containers", "Required value");
        if (spec.Containers.Count > 1) return Invalid("spec.containers", "this test server runs one container per Pod");
        if (spec.RestartPolicy is { } restart && restart is not ("Always" or "OnFailure" or "Never")) return Invalid("spec.restartPolicy", $"Unsupported value: \"{restart}\"");
        if (spec.ActiveDeadlineSeconds is <= 0) return Invalid("spec.activeDeadlineSeconds", "Invalid value: must be a positive integer");
        if (spec.TerminationGracePeriodSeconds is < 0) return Invalid("spec.terminationGracePeriodSeconds", "Invalid value: must be >= 0");
        var container = spec.Containers[0];
        if (string.IsNullOrEmpty(container.Name) || !LabelValue().IsMatch(container.Name)) return Invalid("spec.containers[0].name", "Required value");
        if (string.IsNullOrWhiteSpace(container.Image)) return Invalid("spec.containers[0].image", "Required value");
        foreach (var variable in container.Env ?? [])
        {
            if (string.IsNullOrEmpty(variable.Name)) return Invalid("spec.containers[0].env[].name", "Required value");
            if (variable.Value is not null && variable.ValueFrom is not null)
                return Invalid($"spec.containers[0].env[{variable.Name}].valueFrom", "Invalid value: may not be specified when `value` is not empty");
            if (variable.ValueFrom?.SecretKeyRef is { } reference && (string.IsNullOrEmpty(reference.Name) || string.IsNullOrEmpty(reference.Key)))
                return Invalid($"spec.containers[0].env[{variable.Name}].valueFrom.secretKeyRef", "Required value");
        }
        var limits = container.Resources?.Limits ?? new Dictionary<string, ResourceQuantity>();
        foreach (var (resource, request) in container.Resources?.Requests ?? new Dictionary<string, ResourceQuantity>())
            if (limits.TryGetValue(resource, out var limit) && request.ToDecimal() > limit.ToDecimal())
                return Invalid($"spec.containers[0].resources.requests[{resource}]", $"Invalid value: \"{request}\": must be less than or equal to {resource} limit of {limit}");
        foreach (var mount in container.VolumeMounts ?? [])
            if (spec.Volumes?.Any(v => v.Name == mount.Name) != true) return Invalid("spec.containers[0].volumeMounts[0].name", $"Not found: \"{mount.Name}\"");

        // The namespace enforces the restricted Pod Security Standard, as the platform's manifests label it.
        var violations = new List<string>();
        var pss = spec.SecurityContext;
        var css = container.SecurityContext;
        if (css?.AllowPrivilegeEscalation != false) violations.Add("allowPrivilegeEscalation != false (container \"task\" must set securityContext.allowPrivilegeEscalation=false)");
        if (css?.Capabilities?.Drop?.Contains("ALL") != true) violations.Add("unrestricted capabilities (container must set securityContext.capabilities.drop=[\"ALL\"])");
        if ((css?.RunAsNonRoot ?? pss?.RunAsNonRoot) != true) violations.Add("runAsNonRoot != true");
        if ((css?.RunAsUser ?? pss?.RunAsUser) == 0) violations.Add("runAsUser=0");
        if ((css?.SeccompProfile ?? pss?.SeccompProfile)?.Type is not ("RuntimeDefault" or "Localhost")) violations.Add("seccompProfile (pod or container must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
        if (css?.Privileged == true) violations.Add("privileged");
        if (violations.Count > 0)
            return new Problem(403, "Forbidden", $"pods \"{name}\" is forbidden: violates PodSecurity \"restricted:latest\": {string.Join(", ", violations)}");
        return null;
    }

    // ---- plumbing ---------------------------------------------------------------------------------------

    /// <summary>Records a change of a Pod: a new resourceVersion, an entry in the history, an event to each matching watch. Called under the lock.</summary>
    private void Emit(PodState state, WatchEventType type)
    {
        var pod = state.Pod;
        pod.Metadata.ResourceVersion = (++_version).ToString();
        var line = EventLine(type, pod);
        var labels = Labels(pod.Metadata);
        _history.Add(new HistoryEntry(_version, pod.Metadata.Name, labels, line));
        if (_history.Count > 1000)
        {
            _oldestKept = _history[0].Version;
            _history.RemoveAt(0);
        }
        foreach (var watcher in _watchers.Where(w => w.Matches(pod.Metadata.Name, labels))) watcher.Lines.Writer.TryWrite(line);
    }

    private static string EventLine(WatchEventType type, V1Pod pod) =>
        $"{{\"type\":\"{type.ToString().ToUpperInvariant()}\",\"object\":{KubernetesJson.Serialize(pod)}}}";

    private static Dictionary<string, string> Labels(V1ObjectMeta metadata) => new(metadata.Labels ?? new Dictionary<string, string>());

    /// <summary>Equality-based label selectors (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a</c>, <c>!a</c>) and the metadata.name field selector; null when unsupported.</summary>
    private static Func<string, IDictionary<string, string>, bool>? Selector(string? labelSelector, string? fieldSelector)
    {
        var tests = new List<Func<string, IDictionary<string, string>, bool>>();
        foreach (var term in (labelSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (term.Split("!=") is [var key, var value]) tests.Add((_, l) => !l.TryGetValue(key, out var v) || v != value);
            else if (term.Split("==") is [var key2, var value2]) tests.Add((_, l) => l.TryGetValue(key2, out var v) && v == value2);
            else if (term.Split('=') is [var key3, var value3]) tests.Add((_, l) => l.TryGetValue(key3, out var v) && v == value3);
            else if (term.StartsWith('!') && LabelKey().IsMatch(term[1..])) tests.Add((_, l) => !l.ContainsKey(term[1..]));
            else if (LabelKey().IsMatch(term)) tests.Add((_, l) => l.ContainsKey(term));
            else return null;
        }
        foreach (var term in (fieldSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (term.Split('=') is ["metadata.name", var name]) tests.Add((n, _) => n == name);
            else if (term.Split('=') is ["metadata.namespace", var ns]) tests.Add((_, _) => ns == Namespace);
            else return null;
        }
        return (name, labels) => tests.All(t => t(name, labels));
    }

    private static async Task<(T? Value, string Body)> ReadStrictAsync<T>(HttpContext http) where T : class
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        try
        {
            return (JsonSerializer.Deserialize<T>(body, Strict), body);
        }
        catch (JsonException ex)
        {
            return (null, ex.Message);
        }
    }

    private static JsonSerializerOptions StrictOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.Converters.Add(new KubernetesJson.KubernetesDateTimeConverter());
        options.Converters.Add(new KubernetesJson.KubernetesDateTimeOffsetConverter());
        return options;
    }

    private static Task WriteAsync(HttpContext http, int code, object value) => WriteJsonAsync(http, code, KubernetesJson.Serialize(value));

    private static async Task WriteJsonAsync(HttpContext http, int code, string json)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(json);
    }

    private static Task StatusAsync(HttpContext http, int code, string reason, string message, string? name = null, string? kind = null) =>
        WriteJsonAsync(http, code, StatusJson(code, "Failure", reason, message, name, kind));

    // Written by hand: KubernetesClient's own converter for V1Status only reads (a client never sends one).
    private static string StatusJson(int? code, string status, string? reason, string? message, string? name = null, string? kind = null)
    {
        var json = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = status };
        if (message is not null) json["message"] = message;
        if (reason is not null) json["reason"] = reason;
        if (name is not null || kind is not null) json["details"] = new JsonObject { ["name"] = name, ["kind"] = kind };
        if (code is not null) json["code"] = code;
        return json.ToJsonString();
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex SecretKey();

    public async ValueTask DisposeAsync()
    {
        CloseWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
        var leftovers = await DockerEngine.RunAsync(["ps", "-aq", "--filter", $"label=platform.tests.kubernetes={_id}"]);
        var ids = leftovers.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length > 0) await DockerEngine.RunAsync(["rm", "-f", .. ids]);
    }
}
