using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Tasks;

public sealed class TaskLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Id = Guid.NewGuid();

    private static AppTask Accepted() => TaskLifecycle.Accept(new TaskAccepted(
        Id, "app", 7, "name", "echo hi", 256, 1024, new Dictionary<string, string> { ["A"] = "1" }, T0));

    [Fact]
    public void An_accepted_task_is_pending_and_carries_its_definition()
    {
        var task = Accepted();
        Assert.Equal(TaskState.Pending, task.State);
        Assert.Equal((7L, "echo hi", 256, 1024), (task.SequenceId, task.Command, task.MemoryInMb, task.DiskInMb));
        Assert.Equal(T0, task.CreatedAt);
        Assert.True(TaskLifecycle.CanClaim(task));
    }

    [Fact]
    public void A_claim_moves_a_pending_task_to_running_and_a_second_claim_is_refused()
    {
        var task = TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0.AddSeconds(1)));
        Assert.Equal(TaskState.Running, task.State);
        Assert.Equal("executor-a", task.Executor);
        Assert.False(TaskLifecycle.CanClaim(task));

        task = TaskLifecycle.Apply(task, new TaskClaimed(Id, "executor-b", T0.AddSeconds(2)));
        Assert.Equal("executor-a", task.Executor);
    }

    [Fact]
    public void Exit_code_zero_is_success_and_anything_else_a_failure_with_the_code_in_the_reason()
    {
        Assert.IsType<TaskSucceeded>(TaskLifecycle.Complete(Id, 0, null, T0));
        var failed = Assert.IsType<TaskFailed>(TaskLifecycle.Complete(Id, 3, null, T0));
        Assert.Equal("exited with code 3", failed.Reason);
        var terminated = Assert.IsType<TaskFailed>(TaskLifecycle.Complete(Id, 0, "task was cancelled", T0));
        Assert.Equal("task was cancelled", terminated.Reason);
    }

    [Fact]
    public void A_terminal_state_is_never_overwritten_by_a_late_event()
    {
        var task = TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0));
        task = TaskLifecycle.Apply(task, new TaskFailed(Id, 3, "exited with code 3", T0.AddSeconds(5)));

        task = TaskLifecycle.Apply(task, new TaskSucceeded(Id, 0, T0.AddSeconds(6)));
        task = TaskLifecycle.Apply(task, new TaskClaimed(Id, "executor-b", T0.AddSeconds(7)));

        Assert.Equal(TaskState.Failed, task.State);
        Assert.Equal("exited with code 3", task.FailureReason);
        Assert.Equal(T0.AddSeconds(5), task.EndedAt);
    }

    [Fact]
    public void States_have_cloud_foundry_wire_names()
    {
        Assert.Equal(["PENDING", "RUNNING", "CANCELING", "SUCCEEDED", "FAILED"], Enum.GetValues<TaskState>().Select(s => s.ToWire()));
    }

    [Fact]
    public void A_lost_executors_task_with_attempts_left_is_requeued_with_exponential_backoff_and_fails_when_they_run_out()
    {
        var task = TaskLifecycle.Accept(new TaskAccepted(Id, "app", 1, "n", "c", 64, 64, new Dictionary<string, string>(), T0, MaxAttempts: 3));
        task = TaskLifecycle.Apply(task, new TaskClaimed(Id, "executor-a", T0));

        var first = Assert.IsType<TaskRequeued>(TaskLifecycle.Orphaned(task, "lost", "executor-a", T0, TimeSpan.FromSeconds(5)));
        Assert.Equal((2, T0.AddSeconds(5)), (first.Attempt, first.RetryAt));
        task = TaskLifecycle.Apply(task, first);
        Assert.Equal((TaskState.Pending, (string?)null), (task.State, task.Executor));
        Assert.True(TaskLifecycle.CanClaim(task));

        task = TaskLifecycle.Apply(TaskLifecycle.Apply(task, new TaskRedispatched(Id, T0.AddSeconds(6))), new TaskClaimed(Id, "executor-b", T0.AddSeconds(6)));
        var second = Assert.IsType<TaskRequeued>(TaskLifecycle.Orphaned(task, "lost", "executor-b", T0.AddSeconds(20), TimeSpan.FromSeconds(5)));
        Assert.Equal((3, T0.AddSeconds(30)), (second.Attempt, second.RetryAt));
        task = TaskLifecycle.Apply(TaskLifecycle.Apply(task, second), new TaskClaimed(Id, "executor-a", T0.AddSeconds(31)));

        var last = Assert.IsType<TaskFailed>(TaskLifecycle.Orphaned(task, "lost", "executor-a", T0.AddSeconds(40), TimeSpan.FromSeconds(5)));
        Assert.Equal("lost", last.Reason);
    }

    [Fact]
    public void Without_a_retry_policy_a_lost_executors_task_fails()
    {
        var task = TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0));
        Assert.IsType<TaskFailed>(TaskLifecycle.Orphaned(task, "lost", "executor-a", T0, TimeSpan.FromSeconds(5)));
    }

    private static AppTask Apply(AppTask task, IEnumerable<object> events) => events.Aggregate(task, (t, e) => e switch
    {
        TaskCancelRequested requested => TaskLifecycle.Apply(t, requested),
        TaskFailed failed => TaskLifecycle.Apply(t, failed),
        _ => throw new InvalidOperationException($"unexpected {e}"),
    });

    [Fact]
    public void Cancelling_a_pending_task_fails_it_at_once_and_no_process_is_to_be_ended()
    {
        var decision = TaskLifecycle.Cancel(Accepted(), "job nightly was deleted", T0.AddSeconds(1));

        Assert.Null(decision.Refusal);
        Assert.False(decision.TerminateProcess);
        Assert.Collection(decision.Events,
            e => Assert.Equal(new TaskCancelRequested(Id, "job nightly was deleted", T0.AddSeconds(1)), e),
            e => Assert.Equal(new TaskFailed(Id, null, "job nightly was deleted", T0.AddSeconds(1)), e));
        var task = Apply(Accepted(), decision.Events);
        Assert.Equal((TaskState.Failed, "job nightly was deleted"), (task.State, task.FailureReason));
    }

    [Fact]
    public void Cancelling_a_running_task_moves_it_to_canceling_and_asks_for_its_process_to_end()
    {
        var running = TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0));

        var decision = TaskLifecycle.Cancel(running, TaskLifecycle.CancelledReason, T0.AddSeconds(2));

        Assert.True(decision.TerminateProcess);
        Assert.Equal([new TaskCancelRequested(Id, TaskLifecycle.CancelledReason, T0.AddSeconds(2))], decision.Events);
        var task = Apply(running, decision.Events);
        Assert.Equal((TaskState.Canceling, TaskLifecycle.CancelledReason), (task.State, task.CancelReason));
    }

    [Fact]
    public void Cancelling_a_canceling_task_again_asks_again_and_records_nothing_new()
    {
        var canceling = TaskLifecycle.Apply(TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0)),
            new TaskCancelRequested(Id, "first", T0.AddSeconds(1)));

        var decision = TaskLifecycle.Cancel(canceling, "second", T0.AddSeconds(2));

        Assert.Equal((true, (string?)null), (decision.TerminateProcess, decision.Refusal));
        Assert.Empty(decision.Events);
    }

    [Theory]
    [InlineData(0, "SUCCEEDED")]
    [InlineData(3, "FAILED")]
    public void Cancelling_an_ended_task_is_refused_naming_its_state(int exitCode, string state)
    {
        var ended = TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0));
        ended = TaskLifecycle.Complete(Id, exitCode, null, T0.AddSeconds(1)) switch
        {
            TaskSucceeded succeeded => TaskLifecycle.Apply(ended, succeeded),
            TaskFailed failed => TaskLifecycle.Apply(ended, failed),
            var other => throw new InvalidOperationException($"unexpected {other}"),
        };

        var decision = TaskLifecycle.Cancel(ended, TaskLifecycle.CancelledReason, T0.AddSeconds(2));

        Assert.Empty(decision.Events);
        Assert.False(decision.TerminateProcess);
        Assert.Contains($"already ended ({state})", decision.Refusal);
    }
}
