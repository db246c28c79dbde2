using Platform.Executor.Tasks.Running;

namespace Platform.UnitTests.Tasks;

/// <summary>A command of plain words runs as its program; anything the shell would read differently stays a shell command line.</summary>
public sealed class TaskCommandTests
{
    [Theory]
    [InlineData("date +%s%N", new[] { "date", "+%s%N" })]
    [InlineData("bin/rails db:migrate", new[] { "bin/rails", "db:migrate" })]
    [InlineData("  python   manage.py migrate --noinput ", new[] { "python", "manage.py", "migrate", "--noinput" })]
    [InlineData("/app/backup --to=s3://bucket/path,nightly user@host 50%", new[] { "/app/backup", "--to=s3://bucket/path,nightly", "user@host", "50%" })]
    [InlineData("sleep 1.5", new[] { "sleep", "1.5" })]
    public void Plain_words_run_as_the_program_itself(string command, string[] argv)
    {
        Assert.Equal(argv, TaskCommand.Argv(command));
    }

    [Theory]
    [InlineData("echo \"$HOME\"")]            // builtin, quoting, expansion
    [InlineData("cat $FILE")]                 // expansion
    [InlineData("ls *.txt")]                  // globbing
    [InlineData("ls file?")]                  // globbing
    [InlineData("ls [ab]")]                   // globbing
    [InlineData("ls ~/data")]                 // tilde
    [InlineData("cat 'a b'")]                 // quoting
    [InlineData("cat a\\ b")]                 // escaping
    [InlineData("date `whoami`")]             // command substitution
    [InlineData("sort data | uniq")]          // pipe
    [InlineData("make > out")]                // redirection
    [InlineData("make < in")]                 // redirection
    [InlineData("make; make install")]        // list
    [InlineData("make && make install")]      // and-list
    [InlineData("sleep 100 &")]               // background
    [InlineData("(cd /tmp)")]                 // subshell
    [InlineData("run {a,b}")]                 // braces
    [InlineData("run # a comment")]           // comment
    [InlineData("run\targ")]                  // a tab
    [InlineData("run\nother")]                // two commands
    [InlineData("RAILS_ENV=production rake db:migrate")] // an assignment first
    [InlineData("cd /tmp")]                   // builtins and reserved words are not programs
    [InlineData("exit 3")]
    [InlineData("true")]
    [InlineData("echo hello")]
    [InlineData("exec sleep 1")]
    [InlineData("ulimit -n 10")]
    [InlineData("export A=1")]
    [InlineData(". ./env")]
    [InlineData("if")]
    [InlineData("time make")]
    [InlineData("grüß gott")]                 // non-ASCII: left to the shell
    [InlineData("")]
    [InlineData("   ")]
    public void Anything_the_shell_would_read_differently_runs_through_the_shell(string command)
    {
        Assert.Equal(["/bin/sh", "-c", command], TaskCommand.Argv(command));
    }
}
