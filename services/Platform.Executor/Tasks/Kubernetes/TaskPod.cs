using System.Text;
using k8s.Models;
using Platform.Executor.Tasks.Running;

namespace Platform.Executor.Tasks.Kubernetes;

/// <summary>
/// A task as a Pod (not a batch/v1 Job: a Job's controller retries by itself and makes Pods of its own,
/// while the platform owns retries, <c>max_attempts</c>, and wants one Pod per attempt that it follows and
/// deletes itself), and its secret variables as a Secret the Pod refers to, so that their values are not in
/// the Pod spec that those who may read Pods can see.
/// </summary>
internal static class TaskPod
{
    public const string Container = "task";
    public const string TaskIdLabel = "platform.io/task-id";
    public const string AppLabel = "platform.io/app";
    public const string SpaceLabel = "platform.io/space";
    public const string ExecutorLabel = "platform.io/executor";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "platform-executor";
    private const string Scratch = "/home/task";

    /// <summary>One name per attempt: a retried task gets a new Pod, never the old one's leftovers.</summary>
    public static string Name(ClaimedTask task) => $"task-{task.TaskId:N}-{task.Attempt}";

    public static Guid? TaskIdOf(V1ObjectMeta metadata) =>
        metadata.Labels?.TryGetValue(TaskIdLabel, out var id) == true && Guid.TryParseExact(id, "N", out var taskId) ? taskId : null;

    public static Dictionary<string, string> Labels(ClaimedTask task, string executor) => new()
    {
        [ManagedByLabel] = ManagedBy,
        [TaskIdLabel] = task.TaskId.ToString("N"),
        [AppLabel] = LabelValue(task.App),
        [SpaceLabel] = LabelValue(task.Space),
        [ExecutorLabel] = LabelValue(executor),
    };

    /// <summary>Label values are at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric.</summary>
    public static string LabelValue(string value)
    {
        var cleaned = new string(value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
        if (cleaned.Length > 63) cleaned = cleaned[..63];
        return cleaned.Trim('-', '_', '.');
    }

    public static V1Secret? Secret(ClaimedTask task, string ns, string executor)
    {
        var secrets = task.Environment.Where(v => task.IsSecret(v.Key)).ToDictionary(v => v.Key, v => Encoding.UTF8.GetBytes(v.Value));
        if (secrets.Count == 0) return null;
        return new V1Secret
        {
            ApiVersion = "v1", Kind = "Secret", Type = "Opaque",
            Metadata = new V1ObjectMeta { Name = Name(task), NamespaceProperty = ns, Labels = Labels(task, executor) },
            Data = secrets,
        };
    }

    public static V1Pod Build(ClaimedTask task, KubernetesOptions options, string executor)
    {
        var name = Name(task);
        var environment = TaskEnvironment.For(task, Scratch);
        environment["TMPDIR"] = "/tmp";
        var env = environment.Select(v => task.IsSecret(v.Key)
            ? new V1EnvVar { Name = v.Key, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = name, Key = v.Key } } }
            : new V1EnvVar { Name = v.Key, Value = v.Value }).ToList();
        var memory = new ResourceQuantity($"{task.MemoryInMb}Mi");
        var disk = new ResourceQuantity($"{task.DiskInMb}Mi");
        var limits = new Dictionary<string, ResourceQuantity> { ["memory"] = memory, ["ephemeral-storage"] = disk };
        if (options.CpuLimit is { Length: > 0 } cpuLimit) limits["cpu"] = new ResourceQuantity(cpuLimit);
        return new V1Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name, NamespaceProperty = options.Namespace, Labels = Labels(task, executor),
                // A mesh's sidecar would keep the Pod running after the task ended (cf-for-k8s#375).
                Annotations = new Dictionary<string, string> { ["sidecar.istio.io/inject"] = "false" },
            },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                TerminationGracePeriodSeconds = task.TerminationGracePeriodSeconds,
                ActiveDeadlineSeconds = task.TimeoutSeconds,
                AutomountServiceAccountToken = false,
                EnableServiceLinks = false,
                // The restricted Pod Security Standard.
                SecurityContext = new V1PodSecurityContext
                {
                    RunAsNonRoot = true, RunAsUser = options.RunAsUser, RunAsGroup = options.RunAsGroup,
                    SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                },
                Containers =
                [
                    new V1Container
                    {
                        Name = Container,
                        Image = string.IsNullOrWhiteSpace(task.Image) ? options.DefaultImage : task.Image,
                        Command = ["/bin/sh", "-c", task.Command],
                        Env = env,
                        WorkingDir = Scratch,
                        Resources = new V1ResourceRequirements
                        {
                            Limits = limits,
                            Requests = new Dictionary<string, ResourceQuantity>
                            {
                                ["memory"] = memory, ["ephemeral-storage"] = disk, ["cpu"] = new ResourceQuantity(options.CpuRequest),
                            },
                        },
                        SecurityContext = new V1SecurityContext
                        {
                            AllowPrivilegeEscalation = false, RunAsNonRoot = true, Capabilities = new V1Capabilities { Drop = ["ALL"] },
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        VolumeMounts = [new V1VolumeMount { Name = "scratch", MountPath = Scratch }],
                    },
                ],
                // The task's private writable directory, counted against its ephemeral-storage limit.
                Volumes = [new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = disk } }],
            },
        };
    }
}
