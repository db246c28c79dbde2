using System.Runtime.InteropServices;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// The system calls a task may not make, compiled by libseccomp into the BPF program the launcher (or bubblewrap) installs
/// just before it runs the task's command. In the spirit of Docker's default profile: a denied call fails
/// with EPERM (the task is not killed for trying), everything else is allowed, and calls of another ABI
/// (32-bit <c>int 0x80</c>, x32) kill the process, since their numbers would slip past a list made for the
/// native one.
/// </summary>
internal static partial class SeccompFilter
{
    /// <summary>Denied outright: mounts and namespaces, kernel modules and kexec, tracing and other processes' memory, keyrings, the clock, BPF and perf, swap, reboot, and io_uring (which bypasses all of these lists).</summary>
    public static readonly IReadOnlyList<string> Denied =
    [
        "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        "unshare", "setns",
        "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms", "kexec_load", "kexec_file_load",
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
        "keyctl", "add_key", "request_key",
        "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex", "stime",
        "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie", "fanotify_init",
        "swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd", "syslog", "sysfs", "ustat", "_sysctl", "uselib", "nfsservctl",
        "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm", "vm86", "vm86old",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
    ];

    /// <summary>clone(2) flags that make new namespaces: a clone with any of them fails with EPERM.</summary>
    public static readonly IReadOnlyList<(string Name, ulong Flag)> NamespaceFlags =
    [
        ("CLONE_NEWNS", 0x00020000), ("CLONE_NEWCGROUP", 0x02000000), ("CLONE_NEWUTS", 0x04000000), ("CLONE_NEWIPC", 0x08000000),
        ("CLONE_NEWUSER", 0x10000000), ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000), ("CLONE_NEWTIME", 0x00000080),
    ];

    private const uint ActAllow = 0x7fff0000;
    private const uint ActKillProcess = 0x80000000;
    private const int Eperm = 1, Enosys = 38;
    private const int FilterAttrBadArchAction = 2; // SCMP_FLTATR_ACT_BADARCH
    private const int CompareMaskedEqual = 7; // SCMP_CMP_MASKED_EQ
    private const string Library = "libseccomp.so.2";

    private static uint ActErrno(int errno) => 0x00050000u | (uint)(errno & 0xffff);

    /// <summary>Writes the compiled filter to <paramref name="path"/>; returns why it could not, or null.</summary>
    public static string? TryWrite(string path)
    {
        IntPtr context;
        try
        {
            context = Init(ActAllow);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"libseccomp ({Library}) cannot be loaded: {ex.Message}";
        }
        if (context == IntPtr.Zero) return "libseccomp could not make a filter";
        try
        {
            if (AttributeSet(context, FilterAttrBadArchAction, ActKillProcess) != 0) return "libseccomp refused the bad-architecture action";
            foreach (var name in Denied)
            {
                var number = ResolveName(name);
                if (number == -1) continue; // unknown to this libseccomp
                // A negative number is a call this architecture lacks: libseccomp may refuse it, and there is nothing to deny.
                if (RuleAdd(context, ActErrno(Eperm), number, 0, null) is var result and < 0 && number >= 0 && result != -17 /* EEXIST */)
                    return $"libseccomp refused the rule for {name} ({result})";
            }
            var clone = ResolveName("clone");
            foreach (var (_, flag) in NamespaceFlags)
            {
                // clone's flags are its first argument on every architecture but s390, which Platform does not run on.
                ArgCompare[] compare = [new ArgCompare { Argument = 0, Operator = CompareMaskedEqual, DatumA = flag, DatumB = flag }];
                if (RuleAdd(context, ActErrno(Eperm), clone, 1, compare) < 0) return "libseccomp refused the clone rule";
            }
            // clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes C libraries fall back to clone.
            if (ResolveName("clone3") is var clone3 and not -1 && RuleAdd(context, ActErrno(Enosys), clone3, 0, null) < 0)
                return "libseccomp refused the clone3 rule";

            using var file = File.Create(path);
            var exported = ExportBpf(context, (int)file.SafeFileHandle.DangerousGetHandle());
            return exported == 0 ? null : $"libseccomp could not export the filter ({exported})";
        }
        finally
        {
            Release(context);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ArgCompare
    {
        public uint Argument;
        public int Operator;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Library, EntryPoint = "seccomp_init")]
    private static partial IntPtr Init(uint defaultAction);

    [LibraryImport(Library, EntryPoint = "seccomp_attr_set")]
    private static partial int AttributeSet(IntPtr context, int attribute, uint value);

    [LibraryImport(Library, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ResolveName(string name);

    [LibraryImport(Library, EntryPoint = "seccomp_rule_add_array")]
    private static partial int RuleAdd(IntPtr context, uint action, int syscall, uint count, ArgCompare[]? compares);

    [LibraryImport(Library, EntryPoint = "seccomp_export_bpf")]
    private static partial int ExportBpf(IntPtr context, int fd);

    [LibraryImport(Library, EntryPoint = "seccomp_release")]
    private static partial void Release(IntPtr context);
}
