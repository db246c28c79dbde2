using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Cli;

/// <summary>What one run of the CLI gave: its exit code, what it printed on each stream, and how long it took.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err, TimeSpan Elapsed)
{
    public JsonNode Json => JsonNode.Parse(Out) ?? throw new InvalidOperationException("no JSON on stdout");

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0}s\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>
/// Runs the built CLI (cli/Platform.Cli) as a process, as a person or a script would, against a fixture's
/// Api: PLATFORM_API points at it, PLATFORM_TOKEN carries the fixture's token when it has one, and HOME is
/// a directory of this runner's own, so no test reads or writes anyone's ~/.platform.
/// </summary>
public sealed class CliRunner : IDisposable
{
    private readonly PlatformFixture? _platform;

    public CliRunner(PlatformFixture? platform)
    {
        _platform = platform;
        Home = Directory.CreateTempSubdirectory("platform-cli-home-").FullName;
        // A `platform` command on PATH, as `dotnet tool install` gives one, for the shell tests.
        BinDirectory = Directory.CreateDirectory(Path.Combine(Home, "bin")).FullName;
        var wrapper = Path.Combine(BinDirectory, "platform");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet '{Assembly}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Home { get; }
    public string BinDirectory { get; }

    public static string Assembly { get; } = Path.Combine(ServiceProcess.RepositoryRoot(), "cli", "Platform.Cli", "bin",
        ServiceProcess.BuildConfiguration(), "net10.0", "platform.dll");

    /// <summary>The fixture's admin token: set on its HttpClient once the Api has access control, null until then.</summary>
    public static string? TokenOf(PlatformFixture platform) => platform.Api.DefaultRequestHeaders.Authorization?.Parameter;

    /// <summary>The environment a run gets; <paramref name="extra"/> entries with a null value are removed.</summary>
    public Dictionary<string, string?> Environment(params (string Name, string? Value)[] extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = Home,
            ["PATH"] = $"{BinDirectory}:{System.Environment.GetEnvironmentVariable("PATH")}",
            ["NO_COLOR"] = null,
            ["PLATFORM_API"] = _platform?.Api.BaseAddress!.ToString().TrimEnd('/'),
            ["PLATFORM_TOKEN"] = _platform is null ? null : TokenOf(_platform),
        };
        foreach (var (name, value) in extra) environment[name] = value;
        return environment;
    }

    public Task<CliResult> RunAsync(params string[] arguments) => RunAsync(arguments, []);

    public async Task<CliResult> RunAsync(string[] arguments, (string Name, string? Value)[] environment, TimeSpan? timeout = null)
    {
        using var process = Start(arguments, environment);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"platform {string.Join(' ', arguments)} did not exit: {await output}\n{await error}");
        }
        return new CliResult(process.ExitCode, await output, await error, clock.Elapsed);
    }

    /// <summary>Starts the CLI and leaves reading its output to the caller (for live streaming).</summary>
    public Process Start(string[] arguments, params (string Name, string? Value)[] environment)
    {
        // A test run started in the background by a shell without job control ignores SIGINT, and its children
        // inherit that: the CLI is started with SIGINT at its default, as at a terminal, so Ctrl-C can be tested.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Assembly);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in Environment(environment))
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        return Process.Start(start)!;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
