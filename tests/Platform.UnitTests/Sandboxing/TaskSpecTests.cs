using System.Text;
using Platform.Executor.Tasks.Sandboxing;

namespace Platform.UnitTests.Sandboxing;

/// <summary>What the executor hands a sandbox's launcher (<c>--run-task</c>) on stdin: the command, then NAME=value, each NUL-ended.</summary>
public sealed class TaskSpecTests
{
    [Fact]
    public void The_command_comes_first_then_each_variable_each_ended_by_a_nul_byte()
    {
        var spec = SandboxedProcess.TaskSpec("echo \"$A\" | wc -c", new Dictionary<string, string> { ["A"] = "x=y\nz", ["ÉTÉ"] = "" });

        Assert.Equal(Encoding.UTF8.GetBytes("echo \"$A\" | wc -c\0A=x=y\nz\0ÉTÉ=\0"), spec);
    }

    [Theory]
    [InlineData("echo a\0b", "A", "1")]
    [InlineData("true", "A", "1\0B=2")]
    public void A_nul_byte_anywhere_is_refused_rather_than_cutting_the_task_short(string command, string name, string value)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => SandboxedProcess.TaskSpec(command, new Dictionary<string, string> { [name] = value }));

        Assert.Contains("NUL", refused.Message);
    }
}
