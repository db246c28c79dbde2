using System.Text.Json.Nodes;
using Platform.Cli.Http;
using Platform.Cli.Input;
using Platform.Cli.Logs;
using Platform.Cli.Output;
using Platform.Cli.Tasks;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Cli;

public sealed class CliInputTests
{
    [Theory]
    [InlineData("512M")]
    [InlineData("512MB")]
    [InlineData("1G")]
    [InlineData("2gb")]
    [InlineData("1T")]
    [InlineData("1500K")]
    [InlineData(" 64M ")]
    [InlineData("512")]
    [InlineData("12X")]
    [InlineData("0M")]
    [InlineData("-1G")]
    [InlineData("1.5G")]
    [InlineData("3000000T")]
    public void The_CLI_reads_a_size_exactly_as_the_server_does(string text)
    {
        var server = Megabytes.TryParse(text, out var serverMegabytes, out _);
        var client = Sizes.TryParseMegabytes(text, out var clientMegabytes, out var error);
        Assert.Equal(server, client);
        Assert.Equal(serverMegabytes, clientMegabytes);
        if (!client) Assert.Contains(text, error);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("10m", 600)]
    [InlineData("2h", 7200)]
    [InlineData("1h30m", 5400)]
    public void Durations_read_with_units(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("soon")]
    [InlineData("0s")]
    [InlineData("10d")]
    public void A_duration_without_a_unit_is_refused(string text) => Assert.False(Durations.TryParse(text, out _, out _));

    [Theory]
    [InlineData("*/5 * * * *", "UTC")]
    [InlineData("*/2 * * * * *", "Europe/Berlin")]
    [InlineData("0 9 * * MON-FRI", null)]
    [InlineData("61 * * * *", "UTC")]
    [InlineData("* * * *", "UTC")]
    [InlineData("0 0 31 2 *", "UTC")]
    [InlineData("0 3 * * *", "Mars/Olympus")]
    [InlineData("@daily", "UTC")]
    [InlineData("0 0 * * * * *", "UTC")]
    public void The_CLI_refuses_a_schedule_exactly_when_the_server_does(string cron, string? zone)
    {
        var server = JobCron.TryParse(cron, zone, out _) is not null;
        var client = CronCheck.Error(cron, zone) is null;
        Assert.Equal(server, client);
    }

    [Fact]
    public void A_problem_is_one_line_naming_each_field()
    {
        const string body = """{"title":"The request has invalid fields.","status":422,"errors":{"memory_in_mb":["memory_in_mb must be at most 8192."],"name":["name is required."]}}""";
        Assert.Equal("memory_in_mb: memory_in_mb must be at most 8192.; name: name is required.", PlatformClient.ProblemLine(body, "Unprocessable Entity"));
        Assert.Equal("App not found. No app 'x' exists.", PlatformClient.ProblemLine("""{"title":"App not found.","detail":"No app 'x' exists."}""", null));
        Assert.Equal("upstream\tdown", PlatformClient.ProblemLine("upstream\tdown\n", "Bad Gateway"));
        Assert.Equal("Bad Gateway", PlatformClient.ProblemLine("", "Bad Gateway"));
    }

    [Fact]
    public void A_token_is_never_shown_whole()
    {
        Assert.Equal("abcd****", PlatformClient.Mask("abcdefghijklmnop"));
        Assert.Equal("****", PlatformClient.Mask("short"));
    }

    [Fact]
    public void Log_lines_have_cf_format_and_no_colour_off_a_terminal()
    {
        var terminal = new Terminal(new StringWriter(), new StringWriter());
        var line = JsonNode.Parse("""{"sequence":1,"stream":"stderr","timestamp":"2026-11-23T13:29:09.331+00:00","line":"disk full"}""")!;
        Assert.False(terminal.Colour);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:09\.33[+-]\d{4} \[APP/TASK/monthly\] ERR disk full$", LogLine.Format(line, "monthly", terminal));
    }

    [Theory]
    [InlineData("SUCCEEDED", null, 0)]
    [InlineData("FAILED", "exited with code 3", 1)]
    [InlineData("FAILED", "task was cancelled", 2)]
    public void A_waited_task_s_outcome_is_its_exit_code(string state, string? reason, int exitCode)
    {
        var task = new JsonObject { ["state"] = state, ["result"] = new JsonObject { ["failure_reason"] = reason } };
        Assert.Equal(exitCode, TaskWaiting.Outcome(task));
    }

    [Fact]
    public void The_cancelled_reason_is_the_one_the_platform_writes() =>
        Assert.Equal(Platform.TaskStore.Tasks.TaskLifecycle.CancelledReason, TaskWaiting.CancelledReason);
}
