using System.Diagnostics;
using Platform.Executor.Tasks.Running;

namespace Platform.UnitTests.Tasks.Running;

public sealed class TaskEnvironmentTests
{
    private static ClaimedTask Task(Dictionary<string, string> environment) =>
        new(Guid.Parse("0192f6a8-0000-7000-8000-000000000001"), "billing", 42, "nightly", "true", 512, 1024, environment,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, 10);

    [Fact]
    public void A_task_sees_a_minimal_base_its_apps_variables_and_its_identity_and_nothing_of_the_executors()
    {
        Environment.SetEnvironmentVariable("PLATFORM_TEST_EXECUTOR_SECRET", "s3cret");
        try
        {
            var environment = TaskEnvironment.For(Task(new() { ["GREETING"] = "hello" }), "/home/task");

            Assert.Equal(new Dictionary<string, string>
            {
                ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                ["HOME"] = "/home/task",
                ["TMPDIR"] = "/home/task/tmp",
                ["LANG"] = "C.UTF-8",
                ["GREETING"] = "hello",
                ["PLATFORM_TASK_ID"] = "0192f6a8-0000-7000-8000-000000000001",
                ["PLATFORM_TASK_NAME"] = "nightly",
                ["PLATFORM_TASK_SEQUENCE_ID"] = "42",
                ["PLATFORM_APP_NAME"] = "billing",
                ["MEMORY_LIMIT"] = "512m",
            }, environment);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PLATFORM_TEST_EXECUTOR_SECRET", null);
        }
    }

    [Fact]
    public void An_app_may_replace_the_base_but_never_the_tasks_identity()
    {
        var environment = TaskEnvironment.For(Task(new() { ["PATH"] = "/opt/app/bin", ["PLATFORM_TASK_ID"] = "forged", ["MEMORY_LIMIT"] = "1g" }), "/home/task");

        Assert.Equal("/opt/app/bin", environment["PATH"]);
        Assert.Equal("0192f6a8-0000-7000-8000-000000000001", environment["PLATFORM_TASK_ID"]);
        Assert.Equal("512m", environment["MEMORY_LIMIT"]);
    }

    [Fact]
    public void Inside_a_traced_run_the_task_gets_its_w3c_trace_context()
    {
        using var activity = new Activity("run").SetIdFormat(ActivityIdFormat.W3C).Start();

        Assert.Equal(activity.Id, TaskEnvironment.For(Task(new()), "/home/task")["TRACEPARENT"]);
    }
}
