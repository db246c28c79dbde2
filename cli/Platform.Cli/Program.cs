using System.CommandLine;
using System.CommandLine.Invocation;
using Platform.Cli;
using Platform.Cli.Apps;
using Platform.Cli.Completion;
using Platform.Cli.Jobs;
using Platform.Cli.Logs;
using Platform.Cli.Login;
using Platform.Cli.Tasks;

var root = new RootCommand("platform: run tasks and jobs on Platform, with the verbs cf and kf users know.")
{
    CliOptions.Json,
    CliOptions.Verbose,
};
root.Subcommands.Add(LoginCommand.Create());
root.Subcommands.Add(LoginCommand.Target());
foreach (var verb in AppCommands.All()) root.Subcommands.Add(verb);
foreach (var verb in TaskCommands.All()) root.Subcommands.Add(verb);
root.Subcommands.Add(LogCommands.Logs());
foreach (var verb in JobCommands.All()) root.Subcommands.Add(verb);
root.Subcommands.Add(CompletionCommand.Create(root));
root.Subcommands.Add(CompletionCommand.Apps());

var parse = root.Parse(args);
// A bad command line is exit 64 (EX_USAGE), not System.CommandLine's 1, which means a failed task here.
if (parse.Action is ParseErrorAction)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"platform: {error.Message}");
    Console.Error.WriteLine($"See 'platform {(parse.CommandResult.Command is RootCommand ? "" : parse.CommandResult.Command.Name + " ")}--help'.");
    return ExitCodes.Usage;
}
return await parse.InvokeAsync();
