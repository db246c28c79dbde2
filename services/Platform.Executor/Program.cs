using MassTransit;
using Platform.Executor;
using Platform.Executor.Tasks.Running;
using Platform.Executor.Tasks.Terminating;
using Platform.Messaging;
using Platform.Reaping;
using Platform.ServiceDefaults;
using Platform.TaskStore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskStore();
builder.AddPlatformBus("executor", bus =>
{
    bus.AddConsumer<RunTaskConsumer, RunTaskConsumerDefinition>();
    bus.AddConsumer<TerminateTaskConsumer, TerminateTaskConsumerDefinition>();
});
builder.AddExecutor();
builder.AddLostTaskReaping();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
