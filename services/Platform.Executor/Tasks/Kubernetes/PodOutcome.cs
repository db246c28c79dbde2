using k8s.Models;
using Platform.Executor.Tasks.Running;

namespace Platform.Executor.Tasks.Kubernetes;

/// <summary>Reads how a task's Pod ended from its status, in the words the local runtime uses; null while it has not ended.</summary>
internal static class PodOutcome
{
    // Waiting reasons the kubelet would retry for ever (or that never clear): the task fails with the reason
    // rather than stay PENDING (korifi#1048, Metaflow#1469).
    private static readonly HashSet<string> CannotStart =
    [
        "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError",
    ];

    public static ProcessOutcome? Of(V1Pod pod, ClaimedTask task)
    {
        var status = pod.Status;
        var container = status?.ContainerStatuses?.FirstOrDefault(c => c.Name == TaskPod.Container);
        var terminated = container?.State?.Terminated;
        switch (status?.Reason)
        {
            case "DeadlineExceeded":
                return new ProcessOutcome(terminated?.ExitCode, $"timed out after {task.TimeoutSeconds ?? pod.Spec?.ActiveDeadlineSeconds} s");
            case "Evicted" when status.Message?.Contains("ephemeral", StringComparison.OrdinalIgnoreCase) == true:
                return new ProcessOutcome(terminated?.ExitCode, $"disk limit of {task.DiskInMb} MB exceeded: the task was evicted");
            case "Evicted":
                return new ProcessOutcome(terminated?.ExitCode, $"the task's Pod was evicted: {status.Message}");
        }
        if (terminated is not null)
        {
            if (terminated.Reason == "OOMKilled")
                return new ProcessOutcome(terminated.ExitCode, $"memory limit of {task.MemoryInMb} MB exceeded: the task was killed (exit code {terminated.ExitCode})");
            return new ProcessOutcome(terminated.ExitCode, terminated.ExitCode == 0 ? null : $"exited with code {terminated.ExitCode}");
        }
        if (container?.State?.Waiting is { Reason: { } reason } waiting && CannotStart.Contains(reason))
        {
            var what = reason.Contains("Image") ? $"the image {container.Image} could not be pulled" : "the task's container could not be created";
            return new ProcessOutcome(null, $"{what}: {reason}{(string.IsNullOrEmpty(waiting.Message) ? "" : $": {waiting.Message}")}");
        }
        if (status?.Phase is "Failed" or "Succeeded")
            return new ProcessOutcome(null, $"the task's Pod ended ({status.Phase}) without a container status: {status.Reason} {status.Message}".TrimEnd());
        return null;
    }

    /// <summary>Whether the container has started, so that its log can be followed.</summary>
    public static bool Started(V1Pod pod) =>
        pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == TaskPod.Container)?.State is { Running: not null } or { Terminated: not null };
}
