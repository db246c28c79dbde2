using k8s.Models;
using Platform.Executor.Tasks.Kubernetes;
using Platform.Executor.Tasks.Running;

namespace Platform.UnitTests.Tasks.Kubernetes;

public sealed class TaskPodTests
{
    private static readonly KubernetesOptions Options = new() { Namespace = "tasks", DefaultImage = "debian:bookworm-slim" };

    private static ClaimedTask Task(string? image = null, int? timeout = 30) => new(
        Guid.Parse("0b6f3c4e-2a1d-4c5b-9e8f-7a6b5c4d3e2f"), "my-app", 7, "nightly", "echo hi", 256, 512,
        new Dictionary<string, string> { ["PLAIN"] = "visible", ["TOKEN"] = "s3cret" }, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch,
        timeout, 15, Attempt: 2, Space: "team-a", Image: image, SecretNames: new HashSet<string> { "TOKEN" });

    [Fact]
    public void A_task_becomes_a_restricted_pod_that_never_restarts_with_its_limits_deadline_and_grace()
    {
        var pod = TaskPod.Build(Task(), Options, "executor-a");

        Assert.Equal("task-0b6f3c4e2a1d4c5b9e8f7a6b5c4d3e2f-2", pod.Metadata.Name);
        Assert.Equal("tasks", pod.Metadata.NamespaceProperty);
        Assert.Equal("false", pod.Metadata.Annotations["sidecar.istio.io/inject"]);
        Assert.Equal(("0b6f3c4e2a1d4c5b9e8f7a6b5c4d3e2f", "my-app", "team-a", "executor-a"),
            (pod.Metadata.Labels[TaskPod.TaskIdLabel], pod.Metadata.Labels[TaskPod.AppLabel], pod.Metadata.Labels[TaskPod.SpaceLabel], pod.Metadata.Labels[TaskPod.ExecutorLabel]));
        var spec = pod.Spec;
        Assert.Equal(("Never", 30L, 15L, false), (spec.RestartPolicy, spec.ActiveDeadlineSeconds!.Value, spec.TerminationGracePeriodSeconds!.Value, spec.AutomountServiceAccountToken!.Value));
        Assert.True(spec.SecurityContext.RunAsNonRoot);
        Assert.Equal("RuntimeDefault", spec.SecurityContext.SeccompProfile.Type);
        var container = Assert.Single(spec.Containers);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], container.Command);
        Assert.Equal("debian:bookworm-slim", container.Image);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Equal("256Mi", container.Resources.Limits["memory"].ToString());
        Assert.Equal("512Mi", container.Resources.Limits["ephemeral-storage"].ToString());
        Assert.Equal("256Mi", container.Resources.Requests["memory"].ToString());
        Assert.Equal("100m", container.Resources.Requests["cpu"].ToString());
    }

    [Fact]
    public void Secret_values_are_referenced_from_a_secret_and_never_written_into_the_pod()
    {
        var task = Task();
        var pod = TaskPod.Build(task, Options, "executor-a");
        var secret = TaskPod.Secret(task, "tasks", "executor-a")!;

        var env = pod.Spec.Containers[0].Env.ToDictionary(e => e.Name);
        Assert.Equal("visible", env["PLAIN"].Value);
        Assert.Null(env["TOKEN"].Value);
        Assert.Equal((pod.Metadata.Name, "TOKEN"), (env["TOKEN"].ValueFrom.SecretKeyRef.Name, env["TOKEN"].ValueFrom.SecretKeyRef.Key));
        Assert.DoesNotContain("s3cret", k8s.KubernetesJson.Serialize(pod));
        Assert.Equal(pod.Metadata.Name, secret.Metadata.Name);
        Assert.Equal(["TOKEN"], secret.Data.Keys);
        Assert.Equal("s3cret", System.Text.Encoding.UTF8.GetString(secret.Data["TOKEN"]));
    }

    [Fact]
    public void The_apps_image_wins_over_the_default_and_a_task_without_secrets_has_no_secret()
    {
        var task = Task(image: "registry.example/app:1") with { SecretNames = new HashSet<string>() };
        Assert.Equal("registry.example/app:1", TaskPod.Build(task, Options, "e").Spec.Containers[0].Image);
        Assert.Null(TaskPod.Secret(task, "tasks", "e"));
        Assert.Null(TaskPod.Build(Task(timeout: null), Options, "e").Spec.ActiveDeadlineSeconds);
    }

    [Theory]
    [InlineData("Executor_1.host", "Executor_1.host")]
    [InlineData("box:4242", "box-4242")]
    [InlineData("-lead-", "lead")]
    public void Label_values_are_made_valid(string given, string expected) => Assert.Equal(expected, TaskPod.LabelValue(given));
}
