namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// The shell script a sandboxed task's chain starts with where the C launcher is not available
/// (<c>/bin/sh -c script platform-task files... command...</c>):
/// it writes its own pid into each of the task's <c>cgroup.procs</c> files (the first arguments), opens the
/// seccomp program on descriptor 3 for bubblewrap's <c>--seccomp 3</c> when there is one (the next argument),
/// then becomes the rest of the arguments with the same pid, so every process of the task is in its cgroups
/// from its first instruction.
/// </summary>
internal static class ShellLauncher
{
    public static string Script(int cgroupFiles, bool seccomp) =>
        string.Join(" && ", Enumerable.Range(1, cgroupFiles).Select(i => $"echo $$ > \"${i}\"")
            .Concat(seccomp ? [$"exec 3< \"${cgroupFiles + 1}\""] : Array.Empty<string>())
            .Append($"shift {cgroupFiles + (seccomp ? 1 : 0)}").Append("exec \"$@\""));
}
