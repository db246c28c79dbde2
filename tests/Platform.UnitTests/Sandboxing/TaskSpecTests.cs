using System.Text;
using Platform.Executor.Tasks.Sandboxing;

namespace Platform.UnitTests.Sandboxing;

/// <summary>
/// What the executor hands a sandbox's launcher on stdin: the number of the program's words, the words, then
/// NAME=value per variable, each NUL-ended.
/// </summary>
public sealed class TaskSpecTests
{
    [Fact]
    public void The_count_of_words_comes_first_then_the_words_then_each_variable_each_ended_by_a_nul_byte()
    {
        var spec = SandboxedProcess.TaskSpec(["/bin/sh", "-c", "echo \"$A\" | wc -c"], new Dictionary<string, string> { ["A"] = "x=y\nz", ["ÉTÉ"] = "" });

        Assert.Equal(Encoding.UTF8.GetBytes("3\0/bin/sh\0-c\0echo \"$A\" | wc -c\0A=x=y\nz\0ÉTÉ=\0"), spec);
    }

    [Fact]
    public void A_program_without_variables_is_its_count_and_words_alone()
    {
        Assert.Equal(Encoding.UTF8.GetBytes("2\0date\0+%s%N\0"), SandboxedProcess.TaskSpec(["date", "+%s%N"], new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData("echo a\0b", "A", "1")]
    [InlineData("true", "A", "1\0B=2")]
    public void A_nul_byte_anywhere_is_refused_rather_than_cutting_the_task_short(string command, string name, string value)
    {
        var refused = Assert.Throws<InvalidOperationException>(() =>
            SandboxedProcess.TaskSpec(["/bin/sh", "-c", command], new Dictionary<string, string> { [name] = value }));

        Assert.Contains("NUL", refused.Message);
    }
}
