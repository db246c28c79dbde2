using System.Collections.Concurrent;
using System.Diagnostics;

namespace Platform.Benchmarks.Hangfire;

/// <summary>
/// The Hangfire job: runs a command the way Platform's unsandboxed executor does (<c>/bin/sh -c command</c>,
/// output read, the exit code checked), and keeps the first line and the end time where the
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

    /// <summary>
    /// Synchronous, as a Hangfire job naturally is: Hangfire runs each job on a dedicated worker thread, and an
    /// async job blocks that thread while its continuations wait for the thread pool. With 32 workers and the
    /// benchmark's own synchronous enqueues that starved the pool: in one full run the machine sat idle for a
    /// minute while the process added a thread a second and enqueues timed out (docs/benchmarks.md). stderr is
    /// not read (it would need a second reader); the commands measured print nothing there.
    /// </summary>
    public static void Run(int ticket, string command)
    {
        var start = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", command }, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var first = process.StandardOutput.ReadLine();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (first is not null) FirstLines[ticket] = first;
        var ended = DateTimeOffset.UtcNow.UtcTicks;
        long seen;
        while ((seen = Interlocked.Read(ref _lastEndTicks)) < ended && Interlocked.CompareExchange(ref _lastEndTicks, ended, seen) != seen)
        {
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"'{command}' exited with code {process.ExitCode}");
    }
}
