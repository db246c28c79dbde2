using System.Collections.Concurrent;
using System.Diagnostics;

namespace Platform.Benchmarks.Hangfire;

/// <summary>
/// The Hangfire job: runs a command the way Platform's unsandboxed executor does (<c>/bin/sh -c command</c>,
/// output read line by line, the exit code checked), and keeps the first line and the end time where the
/// benchmark can read them. A static method, so that Hangfire needs no job activator.
/// </summary>
public static class ShellJob
{
    public static readonly ConcurrentDictionary<int, string> FirstLines = new();
    private static long _lastEndTicks;

    public static DateTimeOffset LastEnd => new(Interlocked.Read(ref _lastEndTicks), TimeSpan.Zero);

    public static void Reset()
    {
        FirstLines.Clear();
        Interlocked.Exchange(ref _lastEndTicks, 0);
    }

    public static async Task RunAsync(int ticket, string command)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", command },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var first = await process.StandardOutput.ReadLineAsync();
        await process.StandardOutput.ReadToEndAsync();
        await errors;
        await process.WaitForExitAsync();
        if (first is not null) FirstLines[ticket] = first;
        var ended = DateTimeOffset.UtcNow.UtcTicks;
        long seen;
        while ((seen = Interlocked.Read(ref _lastEndTicks)) < ended && Interlocked.CompareExchange(ref _lastEndTicks, ended, seen) != seen)
        {
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"'{command}' exited with code {process.ExitCode}");
    }
}
