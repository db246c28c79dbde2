using System.Runtime.InteropServices;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// Descriptors this process inherited from whatever started it (a supervisor's pipe, a stray /dev/null)
/// are open without close-on-exec, so every child would inherit them too, tasks included. The runtime's own
/// are all close-on-exec; the inherited ones are marked so at start-up, and none reaches a task.
/// (The C launcher also closes every descriptor above stderr before it makes the sandbox.)
/// </summary>
internal static partial class InheritedDescriptors
{
    private const int SetDescriptorFlags = 2; // F_SETFD
    private const int CloseOnExecFlag = 1;    // FD_CLOEXEC

    /// <summary>Marks every descriptor above stderr close-on-exec.</summary>
    public static void CloseOnExec()
    {
        foreach (var entry in Directory.GetFiles("/proc/self/fd"))
            if (int.TryParse(Path.GetFileName(entry), out var fd) && fd > 2)
                _ = SetFlags(fd, SetDescriptorFlags, CloseOnExecFlag);
    }

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int SetFlags(int fd, int command, int flags);
}
