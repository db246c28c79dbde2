using k8s.Models;
using Platform.Executor.Tasks.Kubernetes;
using Platform.Executor.Tasks.Running;

namespace Platform.UnitTests.Tasks.Kubernetes;

public sealed class PodOutcomeTests
{
    private static readonly ClaimedTask Task = new(Guid.NewGuid(), "app", 1, "t", "true", 64, 128, new Dictionary<string, string>(),
        DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 20, 10);

    private static V1Pod Pod(string? phase = null, string? reason = null, string? message = null, V1ContainerState? state = null) => new()
    {
        Spec = new V1PodSpec { ActiveDeadlineSeconds = 20 },
        Status = new V1PodStatus
        {
            Phase = phase, Reason = reason, Message = message,
            ContainerStatuses = state is null ? null : [new V1ContainerStatus { Name = TaskPod.Container, Image = "img:1", State = state }],
        },
    };

    private static V1ContainerState Terminated(int code, string reason) => new() { Terminated = new V1ContainerStateTerminated { ExitCode = code, Reason = reason } };

    [Fact]
    public void A_running_or_pending_pod_has_not_ended()
    {
        Assert.Null(PodOutcome.Of(Pod("Pending", state: new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } }), Task));
        Assert.Null(PodOutcome.Of(Pod("Running", state: new V1ContainerState { Running = new V1ContainerStateRunning() }), Task));
    }

    [Fact]
    public void The_exit_code_comes_from_the_terminated_container()
    {
        Assert.Equal(new ProcessOutcome(0, null), PodOutcome.Of(Pod("Succeeded", state: Terminated(0, "Completed")), Task));
        Assert.Equal(new ProcessOutcome(3, "exited with code 3"), PodOutcome.Of(Pod("Failed", state: Terminated(3, "Error")), Task));
    }

    [Fact]
    public void Each_limit_the_cluster_enforces_is_named_in_the_reason()
    {
        Assert.Equal("memory limit of 64 MB exceeded: the task was killed (exit code 137)", PodOutcome.Of(Pod("Failed", state: Terminated(137, "OOMKilled")), Task)!.FailureReason);
        Assert.Equal("timed out after 20 s", PodOutcome.Of(Pod("Failed", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"), Task)!.FailureReason);
        Assert.Equal("disk limit of 128 MB exceeded: the task was evicted",
            PodOutcome.Of(Pod("Failed", "Evicted", "Pod ephemeral local storage usage exceeds the total limit of containers 128Mi."), Task)!.FailureReason);
    }

    [Theory]
    [InlineData("ErrImagePull", "the image img:1 could not be pulled: ErrImagePull: not found")]
    [InlineData("ImagePullBackOff", "the image img:1 could not be pulled: ImagePullBackOff: not found")]
    [InlineData("InvalidImageName", "the image img:1 could not be pulled: InvalidImageName: not found")]
    [InlineData("CreateContainerConfigError", "the task's container could not be created: CreateContainerConfigError: not found")]
    public void A_container_that_can_never_start_fails_the_task_instead_of_leaving_it_pending(string reason, string expected)
    {
        var pod = Pod("Pending", state: new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = "not found" } });
        Assert.Equal(new ProcessOutcome(null, expected), PodOutcome.Of(pod, Task));
    }

    [Theory]
    [InlineData("2026-12-01T21:40:00.123456789Z hello world", "hello world", 1234567)]
    [InlineData("2026-12-01T21:40:00Z ", "", 0)]
    public void A_timestamped_log_line_is_split_into_its_time_and_text(string line, string text, long ticks)
    {
        var (at, parsed) = KubernetesRuntime.ParseLogLine(line);
        Assert.Equal(text, parsed);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 21, 40, 0, TimeSpan.Zero).AddTicks(ticks), at);
    }
}
