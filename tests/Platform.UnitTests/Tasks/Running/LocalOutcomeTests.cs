using Platform.Executor.Tasks.Running;

namespace Platform.UnitTests.Tasks.Running;

/// <summary>How the Local runtime (<see cref="TaskProcess"/>) turns a process's end into the task's outcome.</summary>
public sealed class LocalOutcomeTests
{
    [Fact]
    public void Exit_code_0_succeeds() => Assert.Equal(new ProcessOutcome(0, null), TaskProcess.LocalOutcome(null, false, 0, 256));

    [Fact]
    public void Another_exit_code_fails_naming_it() =>
        Assert.Equal(new ProcessOutcome(3, "exited with code 3"), TaskProcess.LocalOutcome(null, false, 3, 256));

    [Fact]
    public void A_kill_by_the_oom_killer_names_the_memory_limit() =>
        Assert.Equal(new ProcessOutcome(137, "memory limit of 256 MB exceeded: the task was killed (exit code 137)"), TaskProcess.LocalOutcome(null, true, 137, 256));

    [Fact]
    public void A_requested_termination_names_its_reason_whatever_the_process_did()
    {
        // A cancelled task that exited 0 on SIGTERM, or that the OOM killer reached meanwhile, still ends for the reason asked.
        Assert.Equal(new ProcessOutcome(null, "cancelled by a user"), TaskProcess.LocalOutcome("cancelled by a user", false, 0, 256));
        Assert.Equal(new ProcessOutcome(null, "process limit of 64 exceeded: the task was killed"),
            TaskProcess.LocalOutcome("process limit of 64 exceeded: the task was killed", true, 137, 256));
        Assert.False(TaskProcess.LocalOutcome("timed out after 5 s", false, 0, 256).Succeeded);
    }
}
