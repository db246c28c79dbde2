using Platform.Api;
using Platform.Cancelling;
using Platform.Messaging;
using Platform.ServiceDefaults;
using Platform.TaskStore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTaskStore();
builder.AddPlatformBus("api");
builder.AddTaskCancelling();
builder.AddApi();

var app = builder.Build();

// An operator's command instead of the service: eng/rotate-secret-key.sh.
if (args.Contains("--reencrypt-secrets")) return await app.ReencryptSecretsAsync();

app.UseApi();
app.MapDefaultEndpoints();
app.MapApi();

app.Run();
return 0;
