using Platform.Api;
using Platform.Messaging;
using Platform.ServiceDefaults;
using Platform.TaskStore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskStore();
builder.AddPlatformBus("api");
builder.AddApi();

var app = builder.Build();

app.UseApi();
app.MapDefaultEndpoints();
app.MapApi();

app.Run();
