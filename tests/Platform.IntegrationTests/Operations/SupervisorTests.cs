using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Operations;

/// <summary>
/// <c>eng/start-services.sh</c>, the supervisor <c>./run.sh</c> ends in, run as an operator runs it (on ports
/// of its own, against this test's schema and virtual host): what it does when its services die.
/// </summary>
public sealed class SupervisorTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Services = ["Api", "Executor", "Scheduler", "Retention"];
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(180); // start-ups are slow on a loaded machine

    private readonly string _isolation = TestServers.NewIsolationName();
    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), "platform-tests", "supervisor-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, int> _ports = Services.ToDictionary(s => s, _ => FreePort());
    private readonly ConcurrentQueue<string> _lines = new();
    private ServerEndpoints _servers = null!;
    private Process? _supervisor;

    public async Task InitializeAsync()
    {
        _servers = await TestServers.GetAsync();
        await RabbitMqVirtualHosts.CreateAsync(_servers, _isolation);
    }

    [Fact]
    public async Task Each_service_killed_with_SIGKILL_is_restarted_with_a_line_saying_so_and_no_accepted_task_is_lost()
    {
        StartSupervisor();
        await WaitForLineAsync("Platform is running", ReadyLimit);
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_ports["Api"]}"), Timeout = TimeSpan.FromSeconds(10) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", (await File.ReadAllTextAsync(AdminTokenFile)).Trim());
        var app = "app-" + Guid.NewGuid().ToString("N")[..10];
        (await api.PostAsJsonAsync("/v3/apps", new { name = app, command = "sleep 3; echo done" })).EnsureSuccessStatusCode();

        var accepted = new List<Guid>();
        foreach (var service in Services)
        {
            accepted.AddRange(await PostTasksAsync(api, app, 4));
            await Task.Delay(TimeSpan.FromSeconds(1)); // the executor has claimed some: kill -9 hits running tasks
            var pid = int.Parse(await File.ReadAllTextAsync(Path.Combine(_runDirectory, $"{service}.pid")));
            Process.GetProcessById(pid).Kill();
            var line = await WaitForLineAsync($"supervisor: {service} exited (exit status 137 (signal KILL))", TimeSpan.FromSeconds(30));
            Assert.Contains("restart 1 in", line);
            await WaitUntilReadyAsync(service);
            output.WriteLine(line);
        }
        accepted.AddRange(await PostTasksAsync(api, app, 4));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        var ends = new Dictionary<Guid, JsonNode>();
        while (ends.Count < accepted.Count && DateTime.UtcNow < deadline)
        {
            foreach (var id in accepted.Except(ends.Keys))
            {
                var task = JsonNode.Parse(await api.GetStringAsync($"/v3/tasks/{id}"))!;
                if (task["state"]!.GetValue<string>() is "SUCCEEDED" or "FAILED") ends[id] = task;
            }
            await Task.Delay(500);
        }
        var reasons = ends.Values.Select(t => t["result"]!["failure_reason"]?.GetValue<string>()).ToList();
        output.WriteLine($"accepted {accepted.Count}, ended {ends.Count}, succeeded {reasons.Count(r => r is null)}, " +
            $"failed: {string.Join("; ", reasons.Where(r => r is not null).GroupBy(r => r).Select(g => $"{g.Count()} × {g.Key}"))}");
        Assert.Equal(accepted.Count, ends.Count); // nothing lost
        // The only failures allowed are the tasks that ran in the killed executor: failed by its successor at
        // once, or by a surviving service once its lease ran out if the restart took longer than that.
        Assert.All(reasons.Where(r => r is not null), r => Assert.Matches("restarted while the task ran|was lost", r!));

        var clock = Stopwatch.StartNew();
        await StopSupervisorAsync();
        Assert.Equal(0, _supervisor!.ExitCode);
        output.WriteLine($"SIGTERM to the supervisor: everything stopped in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var service in Services) Assert.False(File.Exists(Path.Combine(_runDirectory, $"{service}.pid")), $"{service} still has a pid file");
    }

    [Fact]
    public async Task A_service_that_keeps_crashing_is_given_up_on_clearly_and_the_others_keep_running()
    {
        // An invalid setting makes Retention fail its start-up validation every time.
        StartSupervisor(("Retention__BatchSize", "0"), ("PLATFORM_MAX_QUICK_RESTARTS", "2"));
        var givenUp = await WaitForLineAsync("GIVING UP on Retention", ReadyLimit + ReadyLimit);
        output.WriteLine(string.Join("\n", _lines.Where(l => l.Contains("supervisor:"))));

        Assert.Contains("exited 3 times in a row within a minute of starting", givenUp);
        Assert.Contains(_lines, l => l.Contains("supervisor: Retention exited (exit status") && l.Contains("restart 2 in 2 s"));
        Assert.False(_supervisor!.HasExited);
        foreach (var service in Services.Where(s => s != "Retention")) await WaitUntilReadyAsync(service);
        await StopSupervisorAsync();
    }

    private string AdminTokenFile => Path.Combine(_runDirectory, "admin-token");

    private void StartSupervisor(params (string Name, string Value)[] extra)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(ServiceProcess.RepositoryRoot(), "eng", "start-services.sh")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var environment = new Dictionary<string, string>
        {
            ["PLATFORM_RUN_DIR"] = _runDirectory,
            ["TaskStore__ConnectionString"] = $"{_servers.PostgresConnectionString};Application Name={_isolation}",
            ["TaskStore__Schema"] = _isolation,
            ["RabbitMq__Host"] = _servers.RabbitHost,
            ["RabbitMq__Port"] = _servers.RabbitPort.ToString(),
            ["RabbitMq__VirtualHost"] = _isolation,
            ["RabbitMq__Username"] = _servers.RabbitUser,
            ["RabbitMq__Password"] = _servers.RabbitPassword,
            ["Executor__Name"] = $"supervised-{_isolation}",
            ["Executor__WorkDirectory"] = Path.Combine(_runDirectory, "work"),
            ["Executor__DrainPeriod"] = "00:00:02",
            // This store's admin token, written by its Api's first start, in this test's own directory.
            ["Access__AdminTokenFile"] = AdminTokenFile,
            ["Access__Limits__RequestsPerSecond"] = "0",
            ["Executor__TrustedPublishers"] = $"platform-api,platform-scheduler,platform-executor,{_servers.RabbitUser}",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var service in Services) environment[$"PLATFORM_{service.ToUpperInvariant()}_PORT"] = _ports[service].ToString();
        foreach (var (name, value) in extra) environment[name] = value;
        foreach (var (name, value) in environment) start.Environment[name] = value;
        _supervisor = Process.Start(start)!;
        _supervisor.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _supervisor.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _supervisor.BeginOutputReadLine();
        _supervisor.BeginErrorReadLine();
    }

    private async Task<string> WaitForLineAsync(string text, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (_lines.FirstOrDefault(l => l.Contains(text)) is { } line) return line;
            await Task.Delay(200);
        }
        throw new TimeoutException($"no line '{text}' within {limit}; the supervisor wrote:\n{string.Join("\n", _lines)}");
    }

    private async Task WaitUntilReadyAsync(string service)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var deadline = DateTime.UtcNow + ReadyLimit;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync($"http://127.0.0.1:{_ports[service]}/healthz/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{service} did not come back; the supervisor wrote:\n{string.Join("\n", _lines)}");
    }

    /// <summary>POSTs tasks; one that is not answered 202 (the Api is down) was not accepted.</summary>
    private static async Task<List<Guid>> PostTasksAsync(HttpClient api, string app, int count)
    {
        var accepted = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            try
            {
                var response = await api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
                if (response.StatusCode == HttpStatusCode.Accepted)
                    accepted.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["guid"]!.GetValue<Guid>());
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
        }
        return accepted;
    }

    private async Task StopSupervisorAsync()
    {
        if (_supervisor is null || _supervisor.HasExited) return;
        Process.Start("kill", ["-TERM", _supervisor.Id.ToString()]).WaitForExit();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _supervisor.WaitForExitAsync(limit.Token);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await StopSupervisorAsync();
        }
        finally
        {
            // Whatever a failed test left running.
            foreach (var pidFile in Directory.Exists(_runDirectory) ? Directory.GetFiles(_runDirectory, "*.pid") : [])
                if (int.TryParse(File.ReadAllText(pidFile), out var pid))
                    try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            if (_supervisor is { HasExited: false }) _supervisor.Kill(entireProcessTree: true);
            await RabbitMqVirtualHosts.DeleteAsync(_servers, _isolation);
            await TestServers.DropSchemaAsync(_servers, _isolation);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
