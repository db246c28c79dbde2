using System.ComponentModel.DataAnnotations;

namespace Platform.Executor.Tasks.Kubernetes;

/// <summary>How tasks run as Pods when <see cref="ExecutorOptions.Runtime"/> is Kubernetes.</summary>
public sealed class KubernetesOptions
{
    public const string Section = "Executor:Kubernetes";

    /// <summary>The namespace task Pods (and their Secrets) are made in; the executor's Role must allow pods, pods/log and secrets there.</summary>
    [Required, RegularExpression("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    public string Namespace { get; set; } = "platform-tasks";

    /// <summary>The image of a task whose app names none (<c>image</c>). It needs <c>/bin/sh</c>.</summary>
    [Required]
    public string DefaultImage { get; set; } = "debian:bookworm-slim";

    /// <summary>
    /// How the API server is reached: a kubeconfig file (its current context, or <see cref="Context"/>). With
    /// neither this nor <see cref="Url"/>, the in-cluster configuration (the Pod's service account).
    /// </summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context to use (its current one when empty).</summary>
    public string? Context { get; set; }

    /// <summary>An API server reached without credentials (<c>kubectl proxy</c>, the tests' server); excludes <see cref="Kubeconfig"/>.</summary>
    public string? Url { get; set; }

    /// <summary>The user and group a task's container runs as: never root (the restricted Pod Security Standard).</summary>
    [Range(1, int.MaxValue)]
    public long RunAsUser { get; set; } = 1000;

    [Range(1, int.MaxValue)]
    public long RunAsGroup { get; set; } = 1000;

    /// <summary>The CPU a task's Pod requests (the scheduler reserves it); a task has no CPU setting of its own.</summary>
    [Required]
    public string CpuRequest { get; set; } = "100m";

    /// <summary>The CPU a task may use at most (throttled beyond); empty for no limit.</summary>
    public string? CpuLimit { get; set; }
}
