using System.CommandLine;
using System.CommandLine.Parsing;
using Platform.Cli.Configuration;
using Platform.Cli.Http;
using Platform.Cli.Input;
using Platform.Cli.Output;

namespace Platform.Cli;

/// <summary>What every verb's action gets: the parsed line, the output, and the API client (made on first use).</summary>
internal sealed class CliContext(ParseResult parse, Terminal terminal) : IDisposable
{
    private PlatformClient? _client;

    public ParseResult Parse { get; } = parse;
    public Terminal Terminal { get; } = terminal;
    public bool Json => Parse.GetValue(CliOptions.Json);
    public PlatformClient Api => _client ??= new PlatformClient(CliSettings.Load(), Terminal, Parse.GetValue(CliOptions.Verbose));

    public T Get<T>(Option<T> option) => Parse.GetValue(option)!;
    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    public void Dispose() => _client?.Dispose();
}

/// <summary>Builds verbs the same way: options and arguments, and an action whose failures become one line and an exit code.</summary>
internal static class CliCommand
{
    public static Command Verb(string name, string description, Func<CliContext, CancellationToken, Task<int>> action, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            if (symbol is Argument argument) command.Arguments.Add(argument);
            else if (symbol is Option option) command.Options.Add(option);
        }
        command.SetAction((parse, ct) => RunAsync(parse, action, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<CliContext, CancellationToken, Task<int>> action, CancellationToken ct)
    {
        var terminal = new Terminal();
        using var context = new CliContext(parse, terminal);
        try
        {
            return await action(context, ct);
        }
        catch (CliFailure failure)
        {
            terminal.Status(null);
            terminal.Fail(failure.Message);
            return failure.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            terminal.Status(null);
            return ExitCodes.Interrupted;
        }
        catch (Exception ex)
        {
            // A bug of the CLI's own: one line, never a stack trace unless asked for.
            terminal.Status(null);
            terminal.Fail($"internal error: {ex.Message}{(parse.GetValue(CliOptions.Verbose) ? "\n" + ex : " (--verbose shows more)")}");
            return ExitCodes.ApiError;
        }
    }
}

/// <summary>Options shared by many verbs, with the parsing that makes a bad value a usage error (64) before any request.</summary>
internal static class CliOptions
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON for scripts instead of tables", Recursive = true };
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Print each HTTP exchange to stderr (the token masked)", Recursive = true };

    public static Argument<string> App() => new("APP") { Description = "The app's name" };

    public static Argument<long> TaskId() => new("ID") { Description = "The task's sequence id (as cf tasks shows it)" };

    public static Option<int?> Size(string name, string alias, string description) => new(name, alias)
    {
        Description = description + " (512M, 1G)",
        HelpName = "SIZE",
        CustomParser = result =>
        {
            if (Sizes.TryParseMegabytes(result.Tokens[0].Value, out var megabytes, out var error)) return megabytes;
            result.AddError($"{name}: {error}");
            return null;
        },
    };

    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description + " (30s, 10m, 1h)",
        HelpName = "DURATION",
        CustomParser = result =>
        {
            if (Durations.TryParse(result.Tokens[0].Value, out var duration, out var error)) return duration;
            result.AddError($"{name}: {error}");
            return null;
        },
    };

    /// <summary>Repeatable <c>K=V</c> pairs (<c>--env A=1 --env B=2</c>).</summary>
    public static Option<Dictionary<string, string>> KeyValues(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "K=V",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = result =>
        {
            var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var token in result.Tokens)
            {
                var at = token.Value.IndexOf('=');
                if (at < 1)
                {
                    result.AddError($"{name}: '{token.Value}' is not K=V.");
                    continue;
                }
                pairs[token.Value[..at]] = token.Value[(at + 1)..];
            }
            return pairs;
        },
    };

    public static Option<string?> Cron(string name, string description) => new(name) { Description = description, HelpName = "CRON" };
}
