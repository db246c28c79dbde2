using System.CommandLine;
using System.Text;

namespace Platform.Cli.Completion;

/// <summary>
/// <c>platform completion bash|zsh</c>: a script generated from the verbs themselves, so it cannot fall
/// behind them. App names complete from the API through the hidden <c>__apps</c> verb. zsh runs the same
/// function through its bash compatibility layer (bashcompinit), which ships with zsh.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create(RootCommand root)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        return CliCommand.Verb("completion", "Print a shell completion script: source <(platform completion bash)", (c, _) =>
        {
            var script = BashScript(root);
            c.Terminal.Out.Write(c.Get(shell) == "zsh" ? "autoload -U +X bashcompinit && bashcompinit\n" + script : script);
            return Task.FromResult(ExitCodes.Success);
        }, shell);
    }

    /// <summary>App names, one a line, for the completion script; quiet on any failure so a shell never shows an error.</summary>
    public static Command Apps()
    {
        var command = CliCommand.Verb("__apps", "App names for shell completion", async (c, ct) =>
        {
            try
            {
                foreach (var app in await c.Api.GetAllAsync("/v3/apps?per_page=500", ct)) c.Terminal.Out.WriteLine(app!["name"]);
            }
            catch (CliFailure)
            {
            }
            return ExitCodes.Success;
        });
        command.Hidden = true;
        return command;
    }

    internal static string BashScript(RootCommand root)
    {
        var verbs = root.Subcommands.Where(v => !v.Hidden).ToList();
        var script = new StringBuilder();
        script.Append("# platform shell completion: source <(platform completion bash)\n");
        script.Append("_platform() {\n");
        script.Append("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" verb=\"${COMP_WORDS[1]}\"\n");
        script.Append($"  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W \"{string.Join(' ', verbs.Select(v => v.Name))} --help --version\" -- \"$cur\")); return; fi\n");
        script.Append("  case \"$prev\" in\n");
        script.Append("    --concurrency-policy) COMPREPLY=($(compgen -W \"Always Forbid Replace\" -- \"$cur\")); return;;\n");
        script.Append("  esac\n");
        script.Append("  if [[ \"$cur\" == -* ]]; then\n    case \"$verb\" in\n");
        foreach (var verb in verbs)
        {
            var options = verb.Options.Concat(root.Options.Where(o => o.Recursive))
                .SelectMany(o => new[] { o.Name }.Concat(o.Aliases)).Where(n => n.StartsWith("--", StringComparison.Ordinal)).Distinct();
            script.Append($"      {verb.Name}) COMPREPLY=($(compgen -W \"{string.Join(' ', options)}\" -- \"$cur\"));;\n");
        }
        script.Append("    esac\n    return\n  fi\n");
        var appFirst = verbs.Where(v => v.Arguments.FirstOrDefault()?.Name == "APP").Select(v => v.Name).ToList();
        script.Append("  if [ \"$COMP_CWORD\" -eq 2 ]; then\n    case \"$verb\" in\n");
        script.Append($"      {string.Join('|', appFirst)}) COMPREPLY=($(compgen -W \"$(platform __apps 2>/dev/null)\" -- \"$cur\"));;\n");
        script.Append("      completion) COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\"));;\n");
        script.Append("    esac\n  fi\n");
        script.Append("}\n");
        script.Append("complete -F _platform platform\n");
        return script.ToString();
    }
}
