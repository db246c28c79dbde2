using System.Runtime.InteropServices;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>POSIX signals, sent with libc's kill(2): .NET only offers SIGKILL for other processes.</summary>
internal static partial class Signals
{
    public const int Term = 15;
    public const int Kill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    /// <summary>Sends a signal; a process that is already gone is not an error.</summary>
    public static void Send(int pid, int signal) => _ = SysKill(pid, signal);
}
