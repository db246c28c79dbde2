using Platform.Cancelling;
using Platform.Messaging;
using Platform.Reaping;
using Platform.Scheduler;
using Platform.ServiceDefaults;
using Platform.TaskStore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskStore();
builder.AddPlatformBus("scheduler");
builder.AddTaskCancelling();
builder.AddScheduler();
builder.AddLostTaskReaping();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
