using System.Diagnostics;

namespace Platform.IntegrationTests.Kubernetes;

/// <summary>
/// The project's Docker engine through its CLI (DOCKER_HOST, which test.sh exports from eng/docker.sh): the
/// test API server's kubelet runs each Pod's container with it.
/// </summary>
public static class DockerEngine
{
    /// <summary>Why the Docker-backed tests cannot run here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (Environment.GetEnvironmentVariable("PLATFORM_SKIP_CONTAINERS") == "1") return "PLATFORM_SKIP_CONTAINERS=1 leaves Docker out";
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")))
            return "no DOCKER_HOST: run under ./test.sh, or export DOCKER_HOST=$(bash eng/docker.sh) after deploy/offline/build-images.sh";
        return null;
    }

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public Result EnsureSuccess(string what) =>
            ExitCode == 0 ? this : throw new InvalidOperationException($"docker {what} failed ({ExitCode}): {Error.Trim()}");
    }

    /// <summary>Runs <c>docker</c> with <paramref name="arguments"/>; <paramref name="environment"/> reaches the CLI (for <c>-e NAME</c> without a value).</summary>
    public static async Task<Result> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, CancellationToken ct = default)
    {
        using var process = Start(arguments, environment);
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new Result(process.ExitCode, await output, await error);
    }

    public static Process Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null) foreach (var (name, value) in environment) start.Environment[name] = value;
        return Process.Start(start)!;
    }
}
