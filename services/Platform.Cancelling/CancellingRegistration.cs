using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Cancelling;

public static class CancellingRegistration
{
    /// <summary>
    /// <see cref="TaskCancellation"/>, for the services that end tasks they do not run (the Api and the
    /// Scheduler): one path that records, announces and counts every cancel, wherever it starts.
    /// </summary>
    public static IHostApplicationBuilder AddTaskCancelling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TaskCancellation>();
        return builder;
    }
}
