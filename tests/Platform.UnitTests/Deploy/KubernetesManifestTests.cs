using k8s;
using k8s.Models;

namespace Platform.UnitTests.Deploy;

/// <summary>
/// deploy/kubernetes loads into KubernetesClient's typed models with unknown fields refused (as the API
/// server's strict field validation does), and holds what a platform team expects of it.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Directory = Path.Combine(Checkout.Root, "deploy", "kubernetes");
    private static readonly string[] Services = ["api", "executor", "scheduler", "retention"];
    private static readonly List<object> Objects = LoadAll();

    private static List<object> LoadAll() =>
        System.IO.Directory.GetFiles(Directory, "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f), typeMap: null, strict: true)).ToList();

    private static IEnumerable<T> All<T>() => Objects.OfType<T>();

    [Fact]
    public void The_kustomization_lists_every_manifest()
    {
        var listed = File.ReadAllLines(Path.Combine(Directory, "kustomization.yaml")).Select(l => l.Trim())
            .Where(l => l.StartsWith("- ", StringComparison.Ordinal)).Select(l => l[2..]).Order();
        var files = System.IO.Directory.GetFiles(Directory, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order();
        Assert.Equal(files, listed);
    }

    [Fact]
    public void Every_service_has_probes_resources_graceful_termination_scrape_annotations_and_secrets_from_a_secret()
    {
        Assert.Equal(Services.Select(s => $"platform-{s}").Order(), All<V1Deployment>().Select(d => d.Metadata.Name).Order());
        foreach (var deployment in All<V1Deployment>())
        {
            var pod = deployment.Spec.Template;
            var container = Assert.Single(pod.Spec.Containers);
            Assert.Equal("/healthz/live", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("/healthz/ready", container.ReadinessProbe.HttpGet.Path);
            Assert.NotNull(container.Resources.Limits["memory"]);
            Assert.NotNull(container.Resources.Requests["cpu"]);
            Assert.True(pod.Spec.TerminationGracePeriodSeconds >= 30);
            Assert.Equal("true", pod.Metadata.Annotations["prometheus.io/scrape"]);
            Assert.Equal("/metrics", pod.Metadata.Annotations["prometheus.io/path"]);
            Assert.Contains(container.EnvFrom, e => e.ConfigMapRef?.Name == "platform-settings");
            var credentials = container.Env.Where(e => e.Name is "TaskStore__ConnectionString" or "RabbitMq__Password").ToList();
            Assert.Equal(2, credentials.Count);
            Assert.All(credentials, e => Assert.Equal("platform-credentials", e.ValueFrom.SecretKeyRef.Name));
        }
    }

    [Fact]
    public void The_services_run_as_non_root_with_nothing_to_escalate_with()
    {
        foreach (var deployment in All<V1Deployment>())
        {
            var pod = deployment.Spec.Template.Spec;
            var container = pod.Containers.Single();
            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
            Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
            Assert.Null(container.SecurityContext.Privileged);
            // Only the executor talks to the Kubernetes API (its tasks are Pods), with its ServiceAccount's token.
            var executor = deployment.Metadata.Name == "platform-executor";
            Assert.Equal(executor, pod.AutomountServiceAccountToken);
            if (executor) Assert.Contains(container.Env, e => e is { Name: "Executor__Runtime", Value: "Kubernetes" });
        }
    }

    [Fact]
    public void Every_service_has_a_disruption_budget_and_a_service_with_named_http_and_metrics_ports()
    {
        foreach (var name in Services.Select(s => $"platform-{s}"))
        {
            var budget = Assert.Single(All<V1PodDisruptionBudget>(), b => b.Metadata.Name == name);
            Assert.Equal(name, budget.Spec.Selector.MatchLabels["app.kubernetes.io/name"]);
            var service = Assert.Single(All<V1Service>(), s => s.Metadata.Name == name);
            Assert.Equal(["http", "metrics"], service.Spec.Ports.Select(p => p.Name));
        }
    }

    [Fact]
    public void The_executor_may_touch_only_pods_their_logs_and_secrets_in_the_tasks_namespace()
    {
        var role = Assert.Single(All<V1Role>());
        Assert.Equal("platform-tasks", role.Metadata.NamespaceProperty);
        Assert.All(role.Rules.SelectMany(r => r.Resources), r => Assert.Contains(r, new[] { "pods", "pods/log", "secrets" }));
        Assert.DoesNotContain(role.Rules.SelectMany(r => r.Verbs), v => v is "*" or "escalate" or "bind" or "impersonate");
        var binding = Assert.Single(All<V1RoleBinding>());
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        Assert.Equal("platform-executor", Assert.Single(binding.Subjects).Name);
        Assert.Equal("platform-executor", All<V1Deployment>().Single(d => d.Metadata.Name == "platform-executor").Spec.Template.Spec.ServiceAccountName);
        Assert.Empty(All<V1ClusterRole>());
    }

    [Fact]
    public void Task_pods_take_no_connections_and_cannot_reach_the_platform_or_link_local()
    {
        var tasks = Assert.Single(All<V1NetworkPolicy>(), p => p.Metadata.NamespaceProperty == "platform-tasks");
        Assert.Equal(["Ingress", "Egress"], tasks.Spec.PolicyTypes);
        Assert.Empty(tasks.Spec.Ingress);
        var wide = tasks.Spec.Egress.SelectMany(e => e.To).Where(t => t.IpBlock is not null).ToList();
        Assert.All(wide, t => Assert.Contains("169.254.0.0/16", t.IpBlock.Except));
        // In the platform's namespace only its own pods get in, but for the Api, which takes no one from the tasks' namespace.
        var inner = Assert.Single(All<V1NetworkPolicy>(), p => p.Metadata.Name == "platform-only-from-platform");
        Assert.Null(Assert.Single(Assert.Single(inner.Spec.Ingress).FromProperty).NamespaceSelector);
        var api = Assert.Single(All<V1NetworkPolicy>(), p => p.Metadata.Name == "api-from-anywhere-but-tasks");
        Assert.Contains("platform-tasks", Assert.Single(api.Spec.Ingress.Single().FromProperty).NamespaceSelector.MatchExpressions.Single().Values);
    }

}
