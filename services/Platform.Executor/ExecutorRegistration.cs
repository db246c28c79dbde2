using Platform.Executor.Tasks.Running;

namespace Platform.Executor;

internal static class ExecutorRegistration
{
    public static IHostApplicationBuilder AddExecutor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExecutorOptions>()
            .Bind(builder.Configuration.GetSection(ExecutorOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<TaskClaimer>();
        builder.Services.AddSingleton<TaskProcess>();
        builder.Services.AddSingleton<TaskRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TaskRunner>());
        return builder;
    }
}
