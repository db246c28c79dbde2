using MassTransit;
using Platform.Messaging;
using Platform.Reaping;
using Platform.Retention;
using Platform.Retention.Pruning;
using Platform.ServiceDefaults;
using Platform.TaskStore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskStore();
builder.AddPlatformBus("retention", bus =>
{
    bus.AddConsumer<TaskCompletedConsumer>();
    bus.AddConsumer<TaskTerminatedConsumer>();
});
builder.AddRetention();
builder.AddLostTaskReaping();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
