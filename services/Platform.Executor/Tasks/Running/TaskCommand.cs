namespace Platform.Executor.Tasks.Running;

/// <summary>
/// The program and arguments a task's command runs as. A command is a shell command line, run as
/// <c>/bin/sh -c COMMAND</c> (as Cloud Foundry runs a task's). A command of plain words only means the same
/// without the shell: no quoting, expansion, globbing, redirection, operator, comment or assignment, and no
/// shell builtin or keyword first. Such a command runs directly, found on the task's PATH as the shell would
/// find it (<c>bin/rails db:migrate</c>, <c>python manage.py migrate</c>). That saves the start of the shell,
/// a dynamically loaded program that would only start the one program. It is 2.4 ms a task on the slower
/// test machine (docs/benchmarks.md). A program that is not found exits 127, as under the shell.
/// </summary>
internal static class TaskCommand
{
    public const string Shell = "/bin/sh";

    // dash's builtins and reserved words: as the first word the shell would not run a program of that name.
    private static readonly HashSet<string> ShellOwnWords = new(StringComparer.Ordinal)
    {
        ".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo", "eval", "exec", "exit",
        "export", "false", "fc", "fg", "getopts", "hash", "jobs", "kill", "local", "printf", "pwd", "read",
        "readonly", "return", "set", "shift", "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias",
        "unset", "wait", "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "select",
        "then", "until", "while", "time",
    };

    /// <summary>The program and its arguments: the command's words, or the shell with the command.</summary>
    public static IReadOnlyList<string> Argv(string command) => PlainWords(command) ?? ThroughShell(command);

    /// <summary>The command as a shell command line, whatever it holds.</summary>
    public static IReadOnlyList<string> ThroughShell(string command) => [Shell, "-c", command];

    /// <summary>The command's words when the shell would read it as exactly those words and run the first as a program; otherwise null.</summary>
    internal static string[]? PlainWords(string command)
    {
        foreach (var c in command)
            if (c != ' ' && !IsPlain(c)) return null;
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || ShellOwnWords.Contains(words[0]) || words[0].Contains('=')) return null;
        return words;
    }

    // Characters that mean nothing to the shell inside a word; everything else (quotes, $, `, \, globs, ~, #,
    // operators, redirections, braces, tabs and newlines, any non-ASCII) leaves the command to the shell.
    private static bool IsPlain(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' or '-' or '.' or '/' or ':' or ',' or '+' or '@' or '%' or '=';
}
