using Platform.Executor.Tasks.Sandboxing;

namespace Platform.UnitTests.Sandboxing;

public sealed class CgroupValuesTests
{
    [Theory]
    [InlineData(1024, 1024)]
    [InlineData(256, 256)]
    [InlineData(1, 2)] // the kernel's least
    [InlineData(1_000_000, 262_144)] // and its most
    public void A_task_gets_1024_cpu_shares_per_GiB_of_memory_within_the_kernels_range(int memoryInMb, int shares) =>
        Assert.Equal(shares, CgroupValues.CpuShares(memoryInMb));

    [Theory]
    [InlineData(1024, 100)] // a GiB is a default process's weight, as it is a default process's 1,024 shares on v1
    [InlineData(256, 25)]
    [InlineData(8, 1)] // never 0, which the kernel refuses
    [InlineData(1_000_000, 10_000)]
    public void On_cgroup_v2_the_weight_is_the_shares_scaled_to_100_per_1024(int memoryInMb, int weight) =>
        Assert.Equal(weight, CgroupValues.CpuWeight(memoryInMb));

    [Fact]
    public void An_oom_kill_is_read_from_v2_memory_events_and_from_v1_oom_control_without_mistaking_oom_kill_disable()
    {
        Assert.Equal(2, CgroupValues.Counter("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"u8, "oom_kill"u8));
        Assert.Equal(0, CgroupValues.Counter("oom_kill_disable 1\nunder_oom 0\noom_kill 0\n"u8, "oom_kill"u8));
        Assert.Equal(1, CgroupValues.Counter("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"u8, "oom_kill"u8));
    }

    [Fact]
    public void The_pids_limit_counter_is_read_and_a_missing_or_unreadable_key_counts_as_zero()
    {
        Assert.Equal(3, CgroupValues.Counter("max 3\n"u8, "max"u8));
        Assert.Equal(0, CgroupValues.Counter(""u8, "max"u8));
        Assert.Equal(0, CgroupValues.Counter("max lots\n"u8, "max"u8));
        Assert.Equal(7, CgroupValues.Counter("maxed 1\nmax 7"u8, "max"u8)); // a longer key first, and no newline at the end
    }

    [Fact]
    public void A_task_cgroup_is_one_directory_on_v2_and_one_per_controller_hierarchy_on_v1()
    {
        Assert.Equal(["/sys/fs/cgroup/exec"], new CgroupLayout(true, "/sys/fs/cgroup/exec", "/sys/fs/cgroup/exec", "/sys/fs/cgroup/exec").Parents());
        Assert.Equal(["/sys/fs/cgroup/memory/exec", "/sys/fs/cgroup/pids/exec", "/sys/fs/cgroup/cpu/exec"],
            new CgroupLayout(false, "/sys/fs/cgroup/memory/exec", "/sys/fs/cgroup/pids/exec", "/sys/fs/cgroup/cpu/exec").Parents());
        // A host without a pids or cpu controller: only the memory hierarchy.
        Assert.Equal(["/sys/fs/cgroup/memory/exec"], new CgroupLayout(false, "/sys/fs/cgroup/memory/exec", null, null).Parents());
    }
}
