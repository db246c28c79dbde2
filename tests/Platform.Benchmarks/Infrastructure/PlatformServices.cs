using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>
/// The real Platform: the Api, two Executors, the Scheduler and Retention, each its own process running the
/// built Release assembly, configured by environment variables exactly as deployed. The executors can be
/// replaced by unsandboxed ones between measurements.
/// </summary>
public sealed class PlatformServices : IAsyncDisposable
{
    /// <summary>Executors side by side (competing consumers), and each one's task slots.</summary>
    public const int Executors = 2;
    public const int SlotsPerExecutor = 16;
    public const int ClaimConcurrency = 8;

    /// <summary>Each process's connection pool (<see cref="BenchmarkServers.ConnectionString"/>'s default), and all five together.</summary>
    public const int PoolPerProcess = 15;
    public const int ConnectionsInAll = (Executors + 3) * PoolPerProcess; // the executors, Api, Scheduler, Retention

    private readonly BenchmarkServers _servers;
    private readonly string _logDirectory;
    private readonly List<Service> _services = [];

    private PlatformServices(BenchmarkServers servers, string logDirectory)
    {
        _servers = servers;
        _logDirectory = logDirectory;
    }

    public Uri ApiAddress => _services.First(s => s.Name == "Api").Address;

    /// <summary>Where the Api's first start writes its admin token, and the token, which the benchmark's client sends.</summary>
    public string AdminTokenFile => Path.Combine(_logDirectory, "access", "admin-token");

    public string AdminToken { get; private set; } = "";

    public bool Sandboxed { get; private set; } = true;

    public static async Task<PlatformServices> StartAsync(
        BenchmarkServers servers, string logDirectory, IReadOnlyDictionary<string, string> extraSettings, bool sandboxed = true)
    {
        var platform = new PlatformServices(servers, logDirectory) { Sandboxed = sandboxed };
        try
        {
            // The Api first, alone: it creates the schema before the others would race to.
            await platform.StartServiceAsync("Api", "Api", extraSettings);
            platform.AdminToken = (await File.ReadAllTextAsync(platform.AdminTokenFile)).Trim();
            await Task.WhenAll(
                platform.StartExecutorsAsync(extraSettings),
                platform.StartServiceAsync("Scheduler", "Scheduler", extraSettings),
                platform.StartServiceAsync("Retention", "Retention", extraSettings));
            return platform;
        }
        catch
        {
            // One service failed to start: the others must not outlive the run (they would load every later measurement).
            await platform.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the Scheduler: the jobs a lateness measure made would otherwise go on firing through every later measure.</summary>
    public async Task StopSchedulerAsync()
    {
        var scheduler = _services.Single(s => s.Name == "Scheduler");
        await scheduler.StopAsync();
        _services.Remove(scheduler);
    }

    /// <summary>Stops the executors and starts new ones, sandboxed (bubblewrap + cgroup) or not.</summary>
    public async Task ReplaceExecutorsAsync(bool sandboxed)
    {
        var executors = _services.Where(s => s.Name.StartsWith("executor-", StringComparison.Ordinal)).ToList();
        await Task.WhenAll(executors.Select(e => e.StopAsync()));
        _services.RemoveAll(executors.Contains);
        Sandboxed = sandboxed;
        await StartExecutorsAsync(new Dictionary<string, string>());
    }

    /// <summary>
    /// How many methods the services' JIT has compiled so far, all tiers, summed over every service (the
    /// runtime's own counter on each service's /metrics): its growth tells start-up from steady state. Null
    /// when a service did not give it, so that a missing counter is never read as a settled JIT.
    /// </summary>
    public async Task<long?> JitCompiledMethodsAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        long total = 0;
        foreach (var service in _services)
        {
            try
            {
                var metrics = await client.GetStringAsync(new Uri(service.Address, "/metrics"));
                var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("dotnet_jit_compiled_methods_total", StringComparison.Ordinal));
                if (line is null) return null;
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Console.WriteLine($"  {service.Name}: /metrics unreadable ({ex.Message}); the warm-up runs all its rounds");
                return null;
            }
        }
        return total;
    }

    /// <summary>
    /// The sandbox resources the executors have given to tasks so far, by resource and origin (e.g.
    /// <c>sandbox/prepared</c>: started ahead of demand; <c>network_namespace/reused</c>), from their metrics.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> SandboxResourcesAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var taken = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var service in _services.Where(s => s.Name.StartsWith("executor", StringComparison.Ordinal)))
        {
            var metrics = await client.GetStringAsync(new Uri(service.Address, "/metrics"));
            foreach (System.Text.RegularExpressions.Match series in System.Text.RegularExpressions.Regex.Matches(metrics,
                         "^platform_sandbox_resources_total\\{[^}]*platform_sandbox_resource=\"([^\"]+)\"[^}]*platform_sandbox_resource_origin=\"([^\"]+)\"[^}]*\\} (\\d+)",
                         System.Text.RegularExpressions.RegexOptions.Multiline))
            {
                var key = $"{series.Groups[1].Value}/{series.Groups[2].Value}";
                taken[key] = taken.GetValueOrDefault(key) + long.Parse(series.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return taken;
    }

    /// <summary>What was taken between two readings of <see cref="SandboxResourcesAsync"/>, as "resource/origin n, ...".</summary>
    public static string DescribeTaken(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after) =>
        string.Join(", ", after.Select(kv => (kv.Key, Count: kv.Value - before.GetValueOrDefault(kv.Key))).Where(t => t.Count > 0).Select(t => $"{t.Key} {t.Count}"));

    /// <summary>Resident memory (VmRSS) of each service process, in MiB.</summary>
    public IReadOnlyList<(string Service, double MiB)> ResidentMemory() =>
        _services.Select(s => (s.Name, s.ResidentMiB())).ToList();

    private Task StartExecutorsAsync(IReadOnlyDictionary<string, string> extraSettings) =>
        Task.WhenAll(Enumerable.Range(0, Executors).Select(i =>
        {
            var settings = new Dictionary<string, string>(extraSettings)
            {
                ["Executor__Name"] = $"executor-{(char)('a' + i)}{(Sandboxed ? "" : "-unsandboxed")}",
                ["Executor__MaxConcurrentTasks"] = SlotsPerExecutor.ToString(),
                ["Executor__ClaimConcurrency"] = ClaimConcurrency.ToString(),
                ["Executor__WorkDirectory"] = Path.Combine(Path.GetTempPath(), _servers.Name),
            };
            if (!Sandboxed)
            {
                settings["Executor__Sandbox__AllowUnsandboxed"] = "true";
                settings["Executor__Sandbox__Disabled"] = "true";
            }
            return StartServiceAsync("Executor", settings["Executor__Name"], settings);
        }));

    private async Task StartServiceAsync(string project, string name, IReadOnlyDictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            // Each service under its own application name, so that pg_stat_activity tells them apart.
            ["TaskStore__ConnectionString"] = _servers.ConnectionString(PoolPerProcess, application: name),
            ["TaskStore__Schema"] = "platform",
            ["RabbitMq__Host"] = "127.0.0.1",
            ["RabbitMq__VirtualHost"] = _servers.Name,
            ["RabbitMq__Username"] = BenchmarkServers.RabbitUser,
            ["RabbitMq__Password"] = BenchmarkServers.RabbitPassword,
            // Every service here runs as the one benchmark user, so its RunTasks are the platform's own.
            ["Executor__TrustedPublishers"] = BenchmarkServers.RabbitUser,
            // The benchmark is one caller sending as fast as it can: no rate limit, no cap on pending tasks.
            ["Access__Limits__RequestsPerSecond"] = "0",
            ["Access__Limits__MaxUnfinishedTasksPerApp"] = "1000000",
            ["Access__Limits__MaxUnfinishedTasksPerSpace"] = "10000000",
            ["Access__AdminTokenFile"] = AdminTokenFile,
            // Quiet logs: a log line per request or task would measure the console, not the platform.
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Platform"] = "Information",
        };
        foreach (var (key, value) in settings) environment[key] = value;
        var service = Service.Start(project, name, environment, _logDirectory);
        _services.Add(service);
        await service.WaitUntilHealthyAsync(TimeSpan.FromSeconds(90));
    }

    public async ValueTask DisposeAsync() => await Task.WhenAll(_services.Select(s => s.StopAsync()));

    /// <summary>One service process; its output goes to a log file under the run's log directory.</summary>
    private sealed class Service
    {
        private readonly Process _process;
        private readonly string _logPath;

        private Service(string name, Process process, Uri address, string logPath)
        {
            Name = name;
            _process = process;
            Address = address;
            _logPath = logPath;
        }

        public string Name { get; }
        public Uri Address { get; }

        public static Service Start(string project, string name, IReadOnlyDictionary<string, string> environment, string logDirectory)
        {
            var assembly = Path.Combine(Repository.Root, "services", $"Platform.{project}", "bin", "Release", "net10.0", $"Platform.{project}.dll");
            if (!File.Exists(assembly)) throw new FileNotFoundException($"Build the solution in Release first: {assembly} is missing.");
            var port = FreePort();
            Directory.CreateDirectory(logDirectory);
            var logPath = Path.Combine(logDirectory, $"{name}.log");
            // The shell redirects the output to the file, so that no pipe of ours can fill and block the service.
            var start = new ProcessStartInfo("/bin/sh")
            {
                ArgumentList = { "-c", "exec dotnet \"$0\" --urls \"$1\" >>\"$2\" 2>&1", assembly, $"http://127.0.0.1:{port}", logPath },
                WorkingDirectory = Path.GetDirectoryName(assembly)!,
                UseShellExecute = false,
            };
            foreach (var (key, value) in environment) start.Environment[key] = value;
            return new Service(name, Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"), logPath);
        }

        public async Task WaitUntilHealthyAsync(TimeSpan timeout)
        {
            using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                try
                {
                    if ((await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK) return;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
                await Task.Delay(200);
            }
            var tail = File.Exists(_logPath) ? string.Join('\n', File.ReadLines(_logPath).TakeLast(20)) : "";
            throw new InvalidOperationException($"{Name} did not become healthy within {timeout}; {_logPath}:\n{tail}");
        }

        public double ResidentMiB()
        {
            if (_process.HasExited) return double.NaN;
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }

        public async Task StopAsync()
        {
            if (!_process.HasExited)
            {
                // SIGTERM first, as an orchestrator would: executors record their running tasks as ended.
                using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await _process.WaitForExitAsync(patience.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}

/// <summary>Where the repository is, found from the program's own location.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Platform.sln"))) return directory.FullName;
        throw new InvalidOperationException("Platform.sln not found above " + AppContext.BaseDirectory);
    }
}
