using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// One Platform service running as its own OS process, exactly as deployed: the built assembly under
/// <c>dotnet</c>, configured through environment variables. Its output goes to a log file for diagnosis.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ServiceProcess(string service, int port, Process process, StreamWriter log, string logPath, IReadOnlyDictionary<string, string> environment)
    {
        Environment = environment;
        Service = service;
        Port = port;
        _process = process;
        _log = log;
        LogPath = logPath;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public string Service { get; }
    public int Port { get; }
    public Uri BaseAddress { get; }
    public string LogPath { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static ServiceProcess Start(string service, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        var port = FreePort();
        var assembly = Path.Combine(RepositoryRoot(), "services", $"Platform.{service}", "bin", BuildConfiguration(), "net10.0", $"Platform.{service}.dll");
        if (!File.Exists(assembly)) throw new FileNotFoundException($"Build the solution first: {assembly} is missing.");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { assembly, "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        Directory.CreateDirectory(logDirectory);
        var name = environment.TryGetValue("Executor__Name", out var executor) ? executor
            : environment.TryGetValue("Scheduler__Name", out var scheduler) ? scheduler
            : service;
        var logPath = Path.Combine(logDirectory, $"{name}.log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(service, port, process, log, logPath, environment);
    }

    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) break;
            try
            {
                if ((await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"{Service} did not become healthy within {timeout}. Last lines of {LogPath}:\n{Tail()}");
    }

    public string Tail(int lines = 40)
    {
        lock (_log) _log.Flush();
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var all = reader.ReadToEnd().Split('\n');
        return string.Join('\n', all.TakeLast(lines));
    }

    /// <summary>kill -9: no shutdown hooks run.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
    }

    /// <summary>SIGTERM, as an orchestrator sends it; completes when the process has exited (or was killed after <paramref name="limit"/>).</summary>
    public async Task TerminateAsync(TimeSpan? limit = null)
    {
        if (_process.HasExited) return;
        Process.Start("kill", ["-TERM", _process.Id.ToString()]).WaitForExit();
        using var wait = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM, as an orchestrator would, so the service shuts down gracefully.
            Process.Start("kill", ["-TERM", _process.Id.ToString()]).WaitForExit();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(15))) _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port nothing listens on now, and one this test run has not handed out before: the kernel may give a
    /// port again as soon as it is closed, and two Retention hosts started back to back once got the same one
    /// (the second could not bind, and the first answered both health checks).
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
                if (HandedOut.Add(port)) return port;
        }
    }

    public static string BuildConfiguration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Platform.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException("Platform.sln not found above " + AppContext.BaseDirectory);
    }
}
