using MassTransit;
using Platform.Contracts;

namespace Platform.Messaging;

/// <summary>
/// The names of the exchanges the contracts travel on. Fixed here, independent of .NET type names, because
/// outside publishers address them directly (docs/wire-format.md).
/// </summary>
public static class WireFormat
{
    public const string RunTaskExchange = "platform.run-task";
    public const string TaskStartedExchange = "platform.task-started";
    public const string TaskCompletedExchange = "platform.task-completed";
    public const string TaskTerminatedExchange = "platform.task-terminated";
    public const string TerminateTaskExchange = "platform.terminate-task";

    /// <summary>A body with this content type (or none) is read as the bare JSON of the message.</summary>
    public const string RawJsonContentType = "application/json";

    internal static void ApplyEntityNames(IRabbitMqBusFactoryConfigurator cfg)
    {
        cfg.Message<RunTask>(m => m.SetEntityName(RunTaskExchange));
        cfg.Message<TaskStarted>(m => m.SetEntityName(TaskStartedExchange));
        cfg.Message<TaskCompleted>(m => m.SetEntityName(TaskCompletedExchange));
        cfg.Message<TaskTerminated>(m => m.SetEntityName(TaskTerminatedExchange));
        cfg.Message<TerminateTask>(m => m.SetEntityName(TerminateTaskExchange));
    }
}
