using k8s;
using Microsoft.Extensions.Options;

namespace Platform.Executor.Tasks.Kubernetes;

internal static class KubernetesRegistration
{
    /// <summary>The Kubernetes runtime's settings and client; the client is made only when the runtime is used.</summary>
    public static IHostApplicationBuilder AddKubernetesRuntime(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KubernetesOptions>()
            .Bind(builder.Configuration.GetSection(KubernetesOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.Url) || string.IsNullOrEmpty(o.Kubeconfig),
                "Executor:Kubernetes: give Url or Kubeconfig, not both.")
            .Validate(o => string.IsNullOrEmpty(o.Url) || Uri.TryCreate(o.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https",
                "Executor:Kubernetes:Url must be an absolute http(s) URL.")
            .Validate(o => string.IsNullOrEmpty(o.Kubeconfig) || File.Exists(o.Kubeconfig),
                "Executor:Kubernetes:Kubeconfig names a file that does not exist.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IKubernetes>(sp => new k8s.Kubernetes(Configuration(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value)));
        builder.Services.AddSingleton<KubernetesRuntime>();
        return builder;
    }

    private static KubernetesClientConfiguration Configuration(KubernetesOptions options)
    {
        if (!string.IsNullOrEmpty(options.Url)) return new KubernetesClientConfiguration { Host = options.Url };
        if (!string.IsNullOrEmpty(options.Kubeconfig))
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig, string.IsNullOrEmpty(options.Context) ? null : options.Context);
        return KubernetesClientConfiguration.InClusterConfig();
    }
}
