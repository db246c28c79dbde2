using Microsoft.Extensions.Options;
using Platform.Executor.Tasks.Dispatching;
using Platform.Executor.Tasks.Draining;
using Platform.Executor.Tasks.Kubernetes;
using Platform.Executor.Tasks.Leasing;
using Platform.Executor.Tasks.Running;
using Platform.Executor.Tasks.Runtime;
using Platform.Executor.Telemetry;
using Platform.Executor.Tasks.Sandboxing;
using Platform.TaskStore.Apps;

namespace Platform.Executor;

internal static class ExecutorRegistration
{
    public static IHostApplicationBuilder AddExecutor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExecutorOptions>()
            .Bind(builder.Configuration.GetSection(ExecutorOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<SandboxOptions>()
            .Bind(builder.Configuration.GetSection(SandboxOptions.Section))
            .Validate(o => !o.Disabled || o.AllowUnsandboxed, "Executor:Sandbox:Disabled requires Executor:Sandbox:AllowUnsandboxed.")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ExecutorTelemetry>();
        builder.Services.AddSingleton<DeniedDestinations>();
        builder.Services.AddSingleton<TaskNetworks>();
        builder.Services.AddSingleton<TaskCgroups>();
        builder.Services.AddSingleton<RunTaskIntake>();
        // The host gives the hosted services this long to stop: the drain, then a minute for grace periods
        // and recording the ends (a task with a longer grace is killed with the process and reaped as lost).
        // An orchestrator's own limit should be as long (terminationGracePeriodSeconds in Kubernetes).
        builder.Services.AddOptions<HostOptions>()
            .Configure<IOptions<ExecutorOptions>>((host, executor) => host.ShutdownTimeout = executor.Value.DrainPeriod + TimeSpan.FromMinutes(1));
        builder.Services.AddSingleton<Sandbox>();
        builder.Services.AddSingleton<TaskClaimer>();
        builder.Services.AddSingleton<PublisherAuthorization>();
        builder.AddSecretKeyRing();
        builder.Services.AddSingleton<TaskProcess>();
        builder.AddKubernetesRuntime();
        builder.Services.AddSingleton<ITaskRuntime>(sp => sp.GetRequiredService<IOptions<ExecutorOptions>>().Value.Runtime switch
        {
            TaskRuntimeKind.Kubernetes => sp.GetRequiredService<KubernetesRuntime>(),
            _ => sp.GetRequiredService<TaskProcess>(),
        });
        builder.Services.AddSingleton<TaskRunner>();
        builder.Services.AddSingleton<LeftBehindTasks>();
        // Order matters: the runtime is probed before anything else starts; hosted services stop in reverse, so
        // the lease is released after the runner recorded its tasks' ends.
        builder.Services.AddHostedService<RuntimeProbe>();
        builder.Services.AddHostedService<LeaseKeeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TaskRunner>());
        builder.Services.AddHostedService<PendingTaskRedispatcher>();
        return builder;
    }
}
