using Platform.Contracts;
using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Tasks;

/// <summary>The one factory of bus messages about a task, and what each kind of cancel announces.</summary>
public sealed class TaskMessagesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Id = Guid.NewGuid();

    private static AppTask Accepted() => TaskLifecycle.Accept(new TaskAccepted(
        Id, "billing", 7, "monthly", "bin/report", 256, 1024, new Dictionary<string, string> { ["A"] = "1" }, T0,
        TimeoutSeconds: 60, TerminationGracePeriodSeconds: 5, MaxAttempts: 2));

    private static CancelOutcome Cancel(AppTask task, string reason)
    {
        var decision = TaskLifecycle.Cancel(task, reason, T0.AddSeconds(9));
        foreach (var e in decision.Events)
            task = e switch
            {
                TaskCancelRequested r => TaskLifecycle.Apply(task, r),
                TaskFailed f => TaskLifecycle.Apply(task, f),
                _ => task,
            };
        return new CancelOutcome(task, decision, T0.AddSeconds(9));
    }

    [Fact]
    public void Run_task_carries_the_stored_definition()
    {
        var run = TaskMessages.RunTask(Accepted());

        Assert.Equal((Id, "billing", "monthly", "bin/report", 256, 1024), (run.TaskId, run.App, run.Name, run.Command, run.MemoryInMb, run.DiskInMb));
        Assert.Equal((60, 5, 2), (run.TimeoutSeconds, run.TerminationGracePeriodSeconds, run.MaxAttempts));
        Assert.Equal("1", run.Env!["A"]);
    }

    [Fact]
    public void Completed_succeeds_only_for_exit_zero_without_a_failure_reason()
    {
        Assert.True(TaskMessages.Completed(Id, "billing", 0, null, "executor-a", T0).Succeeded);
        Assert.False(TaskMessages.Completed(Id, "billing", 3, null, "executor-a", T0).Succeeded);
        var killed = TaskMessages.Completed(Id, "billing", 0, "task was cancelled", "executor-a", T0);
        Assert.False(killed.Succeeded);
        var lost = TaskMessages.Completed(Id, "billing", null, "executor x was lost", "x", T0);
        Assert.Equal((false, (int?)null, "executor x was lost", "x", T0), (lost.Succeeded, lost.ExitCode, lost.FailureReason, lost.Executor, lost.CompletedAt));
    }

    [Fact]
    public void Started_names_the_claiming_executor_and_the_claim_time()
    {
        var started = TaskMessages.Started(Id, "billing", 7, "executor-a", T0.AddSeconds(1));

        Assert.Equal((Id, "billing", 7L, "executor-a", T0.AddSeconds(1)), (started.TaskId, started.App, started.SequenceId, started.Executor, started.StartedAt));
    }

    [Fact]
    public void A_cancelled_pending_task_is_announced_as_terminated_with_its_reason_and_nothing_else()
    {
        var outcome = Cancel(Accepted(), "task was terminated because its app was deleted");

        Assert.True(outcome.EndedWithoutExecutor);
        var terminated = Assert.IsType<TaskTerminated>(Assert.Single(TaskMessages.Cancelled(outcome, gracePeriodSeconds: 5)));
        Assert.Equal((Id, "billing", "task was terminated because its app was deleted", T0.AddSeconds(9)),
            (terminated.TaskId, terminated.App, terminated.Reason, terminated.TerminatedAt));
    }

    [Fact]
    public void A_cancelled_running_task_is_announced_to_the_executors_with_the_grace_period_given()
    {
        var outcome = Cancel(TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0)), "job nightly was deleted");

        Assert.False(outcome.EndedWithoutExecutor);
        var terminate = Assert.IsType<TerminateTask>(Assert.Single(TaskMessages.Cancelled(outcome, gracePeriodSeconds: 0)));
        Assert.Equal((Id, "job nightly was deleted", (int?)0), (terminate.TaskId, terminate.Reason, terminate.GracePeriodSeconds));
    }

    [Fact]
    public void A_refused_cancel_and_an_unknown_task_announce_nothing()
    {
        var ended = TaskLifecycle.Apply(TaskLifecycle.Apply(Accepted(), new TaskClaimed(Id, "executor-a", T0)), new TaskSucceeded(Id, 0, T0.AddSeconds(1)));

        var refused = Cancel(ended, TaskLifecycle.CancelledReason);
        Assert.Empty(TaskMessages.Cancelled(refused, 5));
        Assert.False(refused.EndedWithoutExecutor);
        Assert.Empty(TaskMessages.Cancelled(new CancelOutcome(null, null, T0), 5));
    }
}
