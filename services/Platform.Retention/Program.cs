using Platform.Messaging;
using Platform.ServiceDefaults;
using Platform.TaskStore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskStore();
builder.AddPlatformBus("retention");

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
