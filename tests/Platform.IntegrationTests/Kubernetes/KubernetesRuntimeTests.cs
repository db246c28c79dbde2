using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Kubernetes;

/// <summary>
/// The executor's Kubernetes runtime (<c>Executor:Runtime=Kubernetes</c>) end to end: real executor processes,
/// the real PostgreSQL and RabbitMQ, the in-process <see cref="KubernetesTestServer"/> and Docker containers
/// as the Pods' containers. What a real cluster adds (scheduling, image pulls, eviction) is not here.
/// </summary>
public sealed class KubernetesRuntimeTests(KubernetesFixture platform, ITestOutputHelper output) : IClassFixture<KubernetesFixture>, IDisposable
{
    private KubernetesTestServer Server => platform.Server;

    // A fault of the test server would make a test prove nothing about the runtime.
    public void Dispose()
    {
        if (platform.Server is { } server) Assert.Empty(server.Faults);
    }

    private static string PodOf(Guid id) => $"task-{id:N}-1";

    [DockerFact]
    public async Task A_task_runs_as_a_restricted_pod_with_its_output_and_exit_code_and_its_secrets_out_of_the_spec()
    {
        var clock = Stopwatch.StartNew();
        var app = await platform.RegisterAppAsync(
            env: new Dictionary<string, string> { ["GREETING"] = "hello" }, secretEnv: new Dictionary<string, string> { ["TOKEN"] = "s3cret-value" });
        var id = await platform.RunTaskAsync(app, new
        {
            command = "echo \"$GREETING from uid $(id -u) in $(pwd)\"; echo \"token $TOKEN\"; echo oops >&2; exit 3", timeout_seconds = 60,
        });

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(60));
        output.WriteLine($"accepted to {task["state"]} in {clock.ElapsedMilliseconds} ms: {task.ToJsonString()}");
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Equal(3, task["result"]!["exit_code"]!.GetValue<int>());
        Assert.Equal("exited with code 3", task["result"]!["failure_reason"]!.GetValue<string>());
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();
        Assert.Contains("hello from uid 1000 in /home/task", lines);
        Assert.Contains("token s3cret-value", lines);
        Assert.Contains("oops", lines);

        var pod = JsonNode.Parse(Server.CreatedPods[PodOf(id)])!;
        Assert.DoesNotContain("s3cret-value", Server.CreatedPods[PodOf(id)]);
        var labels = pod["metadata"]!["labels"]!;
        Assert.Equal(id.ToString("N"), labels["platform.io/task-id"]!.GetValue<string>());
        Assert.Equal(app, labels["platform.io/app"]!.GetValue<string>());
        Assert.Equal("default", labels["platform.io/space"]!.GetValue<string>());
        Assert.Equal("false", pod["metadata"]!["annotations"]!["sidecar.istio.io/inject"]!.GetValue<string>());
        var spec = pod["spec"]!;
        Assert.Equal("Never", spec["restartPolicy"]!.GetValue<string>());
        Assert.False(spec["automountServiceAccountToken"]!.GetValue<bool>());
        Assert.Equal(60, spec["activeDeadlineSeconds"]!.GetValue<int>());
        var container = spec["containers"]![0]!;
        Assert.Equal(KubernetesFixture.Image, container["image"]!.GetValue<string>());
        Assert.Equal(["/bin/sh", "-c"], container["command"]!.AsArray().Take(2).Select(c => c!.GetValue<string>()));
        Assert.NotNull(container["resources"]!["limits"]!["memory"]);
        Assert.NotNull(container["resources"]!["limits"]!["ephemeral-storage"]);
        var token = container["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "TOKEN")!;
        Assert.Equal(PodOf(id), token["valueFrom"]!["secretKeyRef"]!["name"]!.GetValue<string>());

        // The Pod, its container and its Secret go with the task.
        await EventuallyAsync(() => !Server.HasPod(PodOf(id)) && !Server.HasSecret(PodOf(id)), "the Pod and Secret are deleted");
        Assert.False(await Server.ContainerExistsAsync(PodOf(id)));
    }

    [DockerFact]
    public async Task A_follower_receives_the_pods_log_while_it_runs()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo tick 1; sleep 1.5; echo tick 2; sleep 1.5; echo tick 3" });

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v3/tasks/{id}/logs?follow=true");
        using var response = await platform.Api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var received = new List<(string Line, string State)>();
        string? eventName = null, end = null;
        while (await reader.ReadLineAsync() is { } sse)
        {
            if (sse.StartsWith("event: ")) eventName = sse[7..];
            else if (sse.StartsWith("data: ") && eventName == "log")
                received.Add((JsonNode.Parse(sse[6..])!["line"]!.GetValue<string>(), (await platform.GetTaskAsync(id))["state"]!.GetValue<string>()));
            else if (sse.StartsWith("data: ") && eventName == "end") end = sse[6..];
        }

        Assert.Equal(["tick 1", "tick 2", "tick 3"], received.Select(r => r.Line));
        Assert.All(received.Take(2), r => Assert.Equal("RUNNING", r.State));
        Assert.Equal("SUCCEEDED", JsonNode.Parse(end!)!["state"]!.GetValue<string>());
    }

    [DockerFact]
    public async Task A_task_over_its_memory_limit_is_oom_killed_and_fails_naming_the_limit()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}", memory_in_mb = 32 });

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(60));
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.StartsWith("memory limit of 32 MB exceeded", task["result"]!["failure_reason"]!.GetValue<string>());
    }

    [DockerFact]
    public async Task A_task_past_its_timeout_fails_by_the_pods_active_deadline()
    {
        var app = await platform.RegisterAppAsync();
        var clock = Stopwatch.StartNew();
        var id = await platform.RunTaskAsync(app, new { command = "echo waiting; sleep 60", timeout_seconds = 2, termination_grace_period_seconds = 1 });

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(45));
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Equal("timed out after 2 s", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        Assert.Equal(2, JsonNode.Parse(Server.CreatedPods[PodOf(id)])!["spec"]!["activeDeadlineSeconds"]!.GetValue<int>());
    }

    [DockerFact]
    public async Task A_cancelled_task_gets_sigterm_and_its_grace_period_through_the_pods_deletion()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new
        {
            command = "trap 'echo cleaning up; exit 143' TERM; echo started; while true; do sleep 0.1; done",
            termination_grace_period_seconds = 5,
        });
        await WaitForLineAsync(id, "started");

        Assert.Equal(HttpStatusCode.Accepted, (await platform.Api.PostAsync($"/v3/tasks/{id}/actions/cancel", null)).StatusCode);

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(45));
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Equal("task was cancelled", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Contains(await platform.GetLogsAsync(id), l => l!["line"]!.GetValue<string>() == "cleaning up");
        Assert.Equal(5, Server.DeleteGracePeriods[PodOf(id)]);
        await EventuallyAsync(() => !Server.HasPod(PodOf(id)), "the Pod is deleted");
    }

    [DockerFact]
    public async Task A_task_whose_image_cannot_be_pulled_fails_with_the_reason_instead_of_staying_pending()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..10];
        var created = await platform.Api.PostAsJsonAsync("/v3/apps", new { name, command = "true", image = "platform-local/no-such-image:1" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = await platform.RunTaskAsync(name);

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(45));
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.StartsWith("the image platform-local/no-such-image:1 could not be pulled: ErrImagePull", task["result"]!["failure_reason"]!.GetValue<string>());
        await EventuallyAsync(() => !Server.HasPod(PodOf(id)), "the Pod is deleted");
    }

    [DockerFact]
    public async Task A_watch_whose_history_is_gone_is_replaced_by_a_new_list_and_the_task_still_ends()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo first; sleep 3; echo second; exit 4" });
        await WaitForLineAsync(id, "first");
        var gone = Server.GoneAnswers;

        Server.CompactHistory();
        Server.CloseWatches();

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(45));
        Assert.Equal(4, task["result"]!["exit_code"]!.GetValue<int>());
        Assert.True(Server.GoneAnswers > gone, "the executor's resumed watch was answered 410 Gone");
        Assert.Equal(["first", "second", "[platform] task failed: exited with code 4"], (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()));
    }

    [DockerFact]
    public async Task A_task_survives_a_restart_of_its_executor_which_reattaches_and_collects_pods_whose_task_is_gone()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "echo before; sleep 6; echo after; exit 7" });
        await WaitForLineAsync(id, "before");
        var executor = await platform.ExecutorOfAsync(id);
        var victim = platform.Services.Single(s => s.Environment.GetValueOrDefault("Executor__Name") == executor);
        // A Pod of this executor for a task the platform does not know: what a crash between create and record leaves.
        var stray = await CreateStrayPodAsync(executor);

        await platform.KillAndRestartAsync(victim);

        var task = await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(60));
        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Equal(7, task["result"]!["exit_code"]!.GetValue<int>());
        // Nothing lost, nothing stored twice across the restart.
        Assert.Equal(["before", "after", "[platform] task failed: exited with code 7"], (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()));
        await EventuallyAsync(() => !Server.HasPod(stray), "the stray Pod is collected");
        await EventuallyAsync(() => !Server.HasPod(PodOf(id)), "the reattached task's Pod is deleted");
    }

    [DockerFact]
    public async Task Deleting_an_app_with_a_running_task_deletes_its_pod_and_secret()
    {
        var app = await platform.RegisterAppAsync(secretEnv: new { TOKEN = "x" });
        var id = await platform.RunTaskAsync(app, new { command = "echo started; sleep 60", termination_grace_period_seconds = 1 });
        await WaitForLineAsync(id, "started");
        Assert.True(Server.HasPod(PodOf(id)) && Server.HasSecret(PodOf(id)));

        Assert.Equal(HttpStatusCode.NoContent, (await platform.Api.DeleteAsync($"/v3/apps/{app}?force=true")).StatusCode);

        await EventuallyAsync(() => !Server.HasPod(PodOf(id)) && !Server.HasSecret(PodOf(id)), "the Pod and Secret are deleted");
        Assert.False(await Server.ContainerExistsAsync(PodOf(id)));
    }

    [DockerFact]
    public async Task The_test_server_refuses_what_a_real_api_server_refuses()
    {
        using var client = new HttpClient { BaseAddress = Server.Url };
        const string pods = $"/api/v1/namespaces/{KubernetesTestServer.Namespace}/pods";
        const string valid = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"probe"},"spec":{"restartPolicy":"Never",
             "securityContext":{"runAsNonRoot":true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}},
             "containers":[{"name":"task","image":"platform-local/debian:bookworm","command":["/bin/sh","-c","true"],
              "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
            """;
        async Task<(int Code, JsonNode Body)> PostAsync(string path, string json)
        {
            var response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }

        var unknown = await PostAsync(pods, valid.Replace("\"restartPolicy\"", "\"restartPolicyy\""));
        Assert.Equal((400, "Status"), (unknown.Code, unknown.Body["kind"]!.GetValue<string>()));
        var nameless = await PostAsync(pods, valid.Replace("\"name\":\"probe\"", "\"labels\":{}"));
        Assert.Equal((422, "Invalid"), (nameless.Code, nameless.Body["reason"]!.GetValue<string>()));
        var elsewhere = await PostAsync(pods, valid.Replace("\"name\":\"probe\"", "\"name\":\"probe\",\"namespace\":\"other\""));
        Assert.Equal(400, elsewhere.Code);
        var privileged = await PostAsync(pods, valid.Replace("\"allowPrivilegeEscalation\":false", "\"allowPrivilegeEscalation\":true"));
        Assert.Equal((403, "Forbidden"), (privileged.Code, privileged.Body["reason"]!.GetValue<string>()));
        Assert.Equal(404, (await PostAsync("/api/v1/namespaces/other/pods", valid)).Code);

        Assert.Equal(201, (await PostAsync(pods, valid)).Code);
        var duplicate = await PostAsync(pods, valid);
        Assert.Equal((409, "AlreadyExists"), (duplicate.Code, duplicate.Body["reason"]!.GetValue<string>()));
        var deleted = await client.DeleteAsync($"{pods}/probe");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        await EventuallyAsync(() => !Server.HasPod("probe"), "the probe Pod is gone");
        var missing = await client.DeleteAsync($"{pods}/probe");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("NotFound", JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["reason"]!.GetValue<string>());
    }

    private async Task<string> CreateStrayPodAsync(string executor)
    {
        using var client = new HttpClient { BaseAddress = Server.Url };
        var name = $"task-{Guid.NewGuid():N}-1";
        var taskId = name[5..37];
        var json = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME","labels":{"app.kubernetes.io/managed-by":"platform-executor",
              "platform.io/task-id":"TASK_ID","platform.io/executor":"EXECUTOR"}},
             "spec":{"restartPolicy":"Never","securityContext":{"runAsNonRoot":true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}},
             "containers":[{"name":"task","image":"IMAGE","command":["/bin/sh","-c","sleep 60"],
              "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
            """.Replace("NAME", name).Replace("TASK_ID", taskId).Replace("EXECUTOR", executor).Replace("IMAGE", KubernetesFixture.Image);
        var response = await client.PostAsync($"/api/v1/namespaces/{KubernetesTestServer.Namespace}/pods", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return name;
    }

    private async Task WaitForLineAsync(Guid id, string line)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (DateTime.UtcNow < deadline)
        {
            if ((await platform.GetLogsAsync(id)).Any(l => l!["line"]!.GetValue<string>() == line)) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Task {id} never printed '{line}': {(await platform.GetTaskAsync(id)).ToJsonString()}\n{platform.DescribeServices()}");
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Never true: {what}");
            await Task.Delay(100);
        }
    }
}
