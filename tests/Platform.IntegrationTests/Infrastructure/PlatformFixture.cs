using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using RabbitMQ.Client;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// A whole Platform: the Api, two Executors (competing consumers), two Schedulers (side by side, as the
/// fault-injection work wants them) and the Retention service,
/// each a real process, on the real PostgreSQL (a schema of its own) and RabbitMQ (a virtual host of its own).
/// A fixture that stops and starts its servers asks for servers of its own (<see cref="OwnServers"/>).
/// </summary>
public class PlatformFixture : IAsyncLifetime
{
    public const string ExecutorA = "executor-a";
    public const string ExecutorB = "executor-b";
    public const string SchedulerA = "scheduler-a";
    public const string SchedulerB = "scheduler-b";

    private readonly List<ServiceProcess> _services = [];
    private string _serviceLogDirectory = "";
    private ContainerServers? _containers;

    public ServerEndpoints Servers { get; private set; } = null!;

    /// <summary>
    /// How this fixture's servers can be taken away and brought back: its own containers, or the machine's
    /// servers where nothing else uses them (see <see cref="LocalServerRestarts"/>); null when neither.
    /// </summary>
    public IServerRestarts? Restarts { get; private set; }

    /// <summary>
    /// True for a fixture that wants a PostgreSQL and a RabbitMQ container of its own (one per test class
    /// collection), where test.sh provides them (<see cref="ContainerServers.Enabled"/>); elsewhere it shares
    /// the machine's servers like every other fixture.
    /// </summary>
    protected virtual bool OwnServers => false;
    public string Isolation { get; } = TestServers.NewIsolationName();
    /// <summary>The Api as its admin: the token the Api's first start wrote to <see cref="AdminTokenFile"/>.</summary>
    public HttpClient Api { get; private set; } = null!;
    public string AdminToken { get; private set; } = "";
    public string AdminTokenFile => Path.Combine(Path.GetTempPath(), "platform-tests", Isolation + "-access", "admin-token");

    /// <summary>This fixture's own key ring for apps' secret values (one key), as eng/setup.sh makes /etc/platform/secret-keys.</summary>
    public string SecretKeysFile => Path.Combine(Path.GetTempPath(), "platform-tests", Isolation + "-access", "secret-keys");
    public ServiceProcess ApiProcess => _services[0];
    public IReadOnlyList<ServiceProcess> Services => _services;
    public string LogDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "service-logs");

    public virtual async Task InitializeAsync()
    {
        if (OwnServers && ContainerServers.Enabled)
        {
            _containers = await ContainerServers.StartAsync();
            Servers = _containers.Endpoints;
            Restarts = _containers;
        }
        else
        {
            Servers = await TestServers.GetAsync();
            Restarts = LocalServerRestarts.WhenAllowed;
        }
        await RabbitMqVirtualHosts.CreateAsync(Servers, Isolation);
        Directory.CreateDirectory(Path.GetDirectoryName(SecretKeysFile)!);
        await File.WriteAllTextAsync(SecretKeysFile, $"k1:{Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}\n");
        var directory = _serviceLogDirectory = Path.Combine(LogDirectory, Isolation);

        // The Api starts first, alone, so that it creates the schema before the others race to.
        _services.Add(ServiceProcess.Start("Api", ForService("Api", Environment()), directory));
        await _services[0].WaitUntilHealthyAsync(TimeSpan.FromSeconds(120));
        AdminToken = (await File.ReadAllTextAsync(AdminTokenFile)).Trim();
        _services.Add(ServiceProcess.Start("Executor", ForService("Executor", Environment(("Executor__Name", ExecutorA))), directory));
        // The second executor starts tasks through sh, nsenter and setpriv, as one does where the sandbox's launcher
        // was not compiled: the hostile tasks of the suite meet both ways of starting.
        _services.Add(ServiceProcess.Start("Executor", ForService("Executor", Environment(("Executor__Name", ExecutorB), ("Executor__Sandbox__Launcher", ""))), directory));
        _services.Add(ServiceProcess.Start("Scheduler", ForService("Scheduler", Environment(("Scheduler__Name", SchedulerA))), directory));
        _services.Add(ServiceProcess.Start("Scheduler", ForService("Scheduler", Environment(("Scheduler__Name", SchedulerB))), directory));
        // Sweeps rarely here, so that what the shared Retention deletes during a test is what a completion
        // triggered; tests that exercise the sweep start Retention processes of their own.
        _services.Add(ServiceProcess.Start("Retention", ForService("Retention", Environment(("Retention__SweepInterval", "01:00:00"))), directory));
        // Five start at once and check the schema one after another under Marten's lock: on a loaded
        // machine the last one was seen to need more than a minute.
        await Task.WhenAll(_services.Skip(1).Select(s => s.WaitUntilHealthyAsync(TimeSpan.FromSeconds(180))));

        Api = Client(AdminToken);
    }

    /// <summary>An HttpClient for the Api (or <paramref name="service"/>) that sends <paramref name="token"/> as its bearer token (none when null).</summary>
    public HttpClient Client(string? token, ServiceProcess? service = null)
    {
        var client = new HttpClient { BaseAddress = (service ?? ApiProcess).BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Creates a space (a name unique to the calling test unless given) as the admin, and returns its name.</summary>
    public async Task<string> CreateSpaceAsync(string? name = null, bool auditorsReadLogs = false)
    {
        name ??= "space-" + Guid.NewGuid().ToString("N")[..10];
        await EnsureAsync(await Api.PostAsJsonAsync("/v3/spaces", new { name, auditors_read_logs = auditorsReadLogs }), "create space");
        return name;
    }

    /// <summary>
    /// A new service account holding <paramref name="role"/> (developer, supporter, auditor; admin with no
    /// space) in <paramref name="space"/>, and a token of it: the subject and the token.
    /// </summary>
    public async Task<(string Subject, string Token)> ServiceAccountAsync(string? space, string role, string? rabbitMqUser = null)
    {
        var name = "sa-" + Guid.NewGuid().ToString("N")[..10];
        await EnsureAsync(await Api.PostAsJsonAsync("/v3/service_accounts", new { name, rabbitmq_user = rabbitMqUser }), "create service account");
        var subject = "service-account:" + name;
        await EnsureAsync(await Api.PostAsJsonAsync("/v3/roles", new { type = role, subject, space }), "bind role");
        var token = await EnsureAsync(await Api.PostAsJsonAsync($"/v3/service_accounts/{name}/tokens", new { }), "issue token");
        return (subject, token["token"]!.GetValue<string>());
    }

    /// <summary>An Api client acting as a new service account with <paramref name="role"/> in <paramref name="space"/>.</summary>
    public async Task<HttpClient> ClientForRoleAsync(string? space, string role) => Client((await ServiceAccountAsync(space, role)).Token);

    private static async Task<JsonNode> EnsureAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text is "" ? "{}" : text)!;
    }

    /// <summary>Settings every service of this fixture gets on top of the defaults below.</summary>
    protected virtual IEnumerable<(string Name, string Value)> Settings => [];

    public Dictionary<string, string> Environment(params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            // The application name marks this fixture's connections, so a test can drop exactly those.
            ["TaskStore__ConnectionString"] = $"{Servers.PostgresConnectionString};Application Name={Isolation}",
            ["TaskStore__Schema"] = Isolation,
            ["RabbitMq__Host"] = Servers.RabbitHost,
            ["RabbitMq__Port"] = Servers.RabbitPort.ToString(),
            ["RabbitMq__VirtualHost"] = Isolation,
            ["RabbitMq__Username"] = Servers.RabbitUser,
            ["RabbitMq__Password"] = Servers.RabbitPassword,
            ["Executor__MaxConcurrentTasks"] = "2",
            // Stopping a fixture's executor (SIGTERM) ends what still runs after a short drain, well within
            // the 15 s ServiceProcess waits before it kills.
            ["Executor__DrainPeriod"] = "00:00:02",
            ["Executor__WorkDirectory"] = Path.Combine(Path.GetTempPath(), "platform-tests", Isolation),
            ["Access__AdminTokenFile"] = AdminTokenFile,
            ["TaskStore__SecretKeysFile"] = SecretKeysFile,
            // The platform's own publishers, and the administrator this fixture's tests publish as.
            ["Executor__TrustedPublishers"] = $"platform-api,platform-scheduler,platform-executor,{Servers.RabbitUser}",
            // Tests fire requests as fast as they can; the limit itself is tested with an Api of its own.
            ["Access__Limits__RequestsPerSecond"] = "0",
        };
        foreach (var (name, value) in Settings.Concat(extra)) environment[name] = value;
        return environment;
    }

    /// <summary>
    /// Each service logs in to RabbitMQ as its own least-privilege user where eng/setup.sh made them (the
    /// rights of eng/rabbitmq-users.tsv on this fixture's virtual host); elsewhere all use the one user given.
    /// A setting the caller gave explicitly is kept.
    /// </summary>
    private Dictionary<string, string> ForService(string service, Dictionary<string, string> environment)
    {
        var user = "platform-" + service.ToLowerInvariant();
        if (Servers.BrokerUsers.TryGetValue(user, out var password) && environment["RabbitMq__Username"] == Servers.RabbitUser)
        {
            environment["RabbitMq__Username"] = user;
            environment["RabbitMq__Password"] = password;
        }
        return environment;
    }

    /// <summary>Registers an app with a name unique to the calling test (in the default space unless given), and returns the name.</summary>
    public async Task<string> RegisterAppAsync(
        string command = "true", object? env = null, int? memoryInMb = null, object? retention = null, string? space = null, object? secretEnv = null)
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..10];
        var response = await Api.PostAsJsonAsync("/v3/apps", new Dictionary<string, object?>
        {
            ["name"] = name, ["command"] = command, ["env"] = env, ["memory_in_mb"] = memoryInMb, ["retention"] = retention,
            ["space"] = space, ["secret_env"] = secretEnv,
        });
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"register app: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return name;
    }

    /// <summary>POSTs a task and returns its guid.</summary>
    public async Task<Guid> RunTaskAsync(string app, object? body = null)
    {
        var response = await Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", body ?? new { });
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 202) throw new InvalidOperationException($"run task: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["guid"]!.GetValue<Guid>();
    }

    public async Task<JsonNode> GetTaskAsync(Guid id) =>
        JsonNode.Parse(await Api.GetStringAsync($"/v3/tasks/{id}"))!;

    /// <summary>Polls the Api until the task is in a terminal state; fails with the task and service logs if it never gets there.</summary>
    public async Task<JsonNode> WaitForEndAsync(Guid id, TimeSpan? timeout = null) =>
        (await WaitForEndAsync(id, timeout, prunedCountsAsEnded: false))!;

    /// <summary>
    /// As <see cref="WaitForEndAsync(Guid, TimeSpan?)"/>, for a task of an app whose retention may delete it as soon as
    /// it has ended: a 404 then counts as ended, and the task is null.
    /// </summary>
    public Task<JsonNode?> WaitForEndOrPruningAsync(Guid id, TimeSpan? timeout = null) => WaitForEndAsync(id, timeout, prunedCountsAsEnded: true);

    private async Task<JsonNode?> WaitForEndAsync(Guid id, TimeSpan? timeout, bool prunedCountsAsEnded)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        JsonNode? task = null;
        while (DateTime.UtcNow < deadline)
        {
            var response = await Api.GetAsync($"/v3/tasks/{id}");
            if (response.IsSuccessStatusCode)
            {
                task = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                if (task["state"]!.GetValue<string>() is "SUCCEEDED" or "FAILED") return task;
            }
            else if (prunedCountsAsEnded && response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Task {id} did not end: {task?.ToJsonString()}\n{DescribeServices()}");
    }

    public async Task<JsonArray> GetLogsAsync(Guid id) =>
        JsonNode.Parse(await Api.GetStringAsync($"/v3/tasks/{id}/logs?limit=10000"))!["resources"]!.AsArray();

    /// <summary>The executor that claimed the task last, from its history.</summary>
    public async Task<string> ExecutorOfAsync(Guid id)
    {
        var events = JsonNode.Parse(await Api.GetStringAsync($"/v3/tasks/{id}/events"))!["resources"]!.AsArray();
        return events.Last(e => e!["type"]!.GetValue<string>() == "task_claimed")!["data"]!["executor"]!.GetValue<string>();
    }

    /// <summary>Stops every running process of a service gracefully (SIGTERM), as an operator would, and forgets it.</summary>
    public async Task<int> StopAllAsync(string service)
    {
        List<ServiceProcess> stopping;
        lock (_services) stopping = _services.Where(s => s.Service == service).ToList();
        await Task.WhenAll(stopping.Select(s => s.DisposeAsync().AsTask()));
        lock (_services) _services.RemoveAll(stopping.Contains);
        return stopping.Count;
    }

    /// <summary>
    /// Starts one more process of a service with the fixture's environment plus <paramref name="extra"/>
    /// settings, waits until it is healthy, and stops it with the fixture (or with <see cref="StopAllAsync"/>).
    /// </summary>
    public async Task<ServiceProcess> StartAsync(string service, params (string Name, string Value)[] extra)
    {
        var process = ServiceProcess.Start(service, ForService(service, Environment(extra)), _serviceLogDirectory);
        lock (_services) _services.Add(process);
        await process.WaitUntilHealthyAsync(TimeSpan.FromSeconds(120));
        return process;
    }

    /// <summary>Stops one process started by <see cref="StartAsync"/> (SIGTERM) and forgets it.</summary>
    public async Task StopAsync(ServiceProcess process)
    {
        await process.DisposeAsync();
        lock (_services) _services.Remove(process);
    }

    public string DescribeServices() =>
        string.Join("\n", _services.Select(s => $"--- {s.Service} ({(s.HasExited ? "exited" : "running")}): {s.LogPath}\n{s.Tail(15)}"));

    /// <summary>kill -9 a service, then start it again with the same settings; returns the new process once healthy.</summary>
    public async Task<ServiceProcess> KillAndRestartAsync(ServiceProcess service, TimeSpan? downtime = null)
    {
        service.Kill();
        await service.DisposeAsync();
        if (downtime is { } wait) await Task.Delay(wait);
        var replacement = ServiceProcess.Start(service.Service, service.Environment, Path.Combine(LogDirectory, Isolation));
        _services[_services.IndexOf(service)] = replacement;
        await replacement.WaitUntilHealthyAsync(TimeSpan.FromSeconds(120));
        if (replacement.Service == "Api") Api = Client(AdminToken, replacement);
        return replacement;
    }

    /// <summary>A plain AMQP client's view of this fixture's virtual host, as an outside publisher has it.</summary>
    public ConnectionFactory RabbitConnectionFactory() => new()
    {
        HostName = Servers.RabbitHost, Port = Servers.RabbitPort, VirtualHost = Isolation,
        UserName = Servers.RabbitUser, Password = Servers.RabbitPassword,
    };

    public NpgsqlDataSource OpenDatabase() => NpgsqlDataSource.Create(Servers.PostgresConnectionString);

    public virtual async Task DisposeAsync()
    {
        Api?.Dispose();
        await Task.WhenAll(_services.Select(s => s.DisposeAsync().AsTask()));
        if (_containers is not null)
        {
            await _containers.DisposeAsync();
            return;
        }
        await RabbitMqVirtualHosts.DeleteAsync(Servers, Isolation);
        await TestServers.DropSchemaAsync(Servers, Isolation);
        try
        {
            Directory.Delete(Path.GetDirectoryName(AdminTokenFile)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "platform";
}
