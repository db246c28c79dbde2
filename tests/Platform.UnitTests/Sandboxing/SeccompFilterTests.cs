using Platform.Executor.Tasks.Sandboxing;

namespace Platform.UnitTests.Sandboxing;

public sealed class SeccompFilterTests
{
    [Fact]
    public void The_filter_compiles_into_a_bpf_program()
    {
        var path = Path.GetTempFileName();
        try
        {
            Assert.Null(SeccompFilter.TryWrite(path));
            var length = new FileInfo(path).Length;
            // A BPF program is a sequence of 8-byte instructions: one per denied call at least, plus the checks around them.
            Assert.Equal(0, length % 8);
            Assert.True(length / 8 > SeccompFilter.Denied.Count, $"{length / 8} instructions for {SeccompFilter.Denied.Count} denied calls");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void What_escapes_use_is_denied()
    {
        foreach (var call in (string[])["mount", "umount2", "pivot_root", "unshare", "setns", "ptrace", "init_module", "finit_module", "bpf", "perf_event_open", "keyctl", "kexec_load", "clock_settime", "settimeofday"])
            Assert.Contains(call, SeccompFilter.Denied);
        Assert.Contains(SeccompFilter.NamespaceFlags, f => f.Name == "CLONE_NEWUSER");
    }
}
