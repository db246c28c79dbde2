using Platform.Executor.Tasks.Running;
using Platform.Executor.Tasks.Sandboxing;

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
            .ValidateOnStart();
        builder.Services.AddSingleton<Sandbox>();
        builder.Services.AddSingleton<TaskClaimer>();
        builder.Services.AddSingleton<TaskProcess>();
        builder.Services.AddSingleton<TaskRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TaskRunner>());
        return builder;
    }
}
