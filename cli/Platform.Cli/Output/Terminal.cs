using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Cli.Output;

/// <summary>
/// Where output goes and how it looks: results on stdout, errors and progress on stderr; colour only when
/// stdout is a terminal and <c>NO_COLOR</c> is unset (https://no-color.org); a progress line only when
/// stderr is a terminal, so that nothing extra reaches a pipe or a file.
/// </summary>
internal sealed class Terminal
{
    private readonly object _lock = new();
    private string? _status;

    public Terminal(TextWriter? output = null, TextWriter? error = null)
    {
        Out = output ?? Console.Out;
        Error = error ?? Console.Error;
        var noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var dumb = Environment.GetEnvironmentVariable("TERM") is "dumb";
        Colour = output is null && !Console.IsOutputRedirected && !noColor && !dumb;
        ShowsProgress = error is null && !Console.IsErrorRedirected && !dumb;
    }

    public TextWriter Out { get; }
    public TextWriter Error { get; }
    public bool Colour { get; }
    public bool ShowsProgress { get; }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public void Line(string text = "")
    {
        lock (_lock)
        {
            ClearStatus();
            Out.WriteLine(text);
            Out.Flush();
            DrawStatus();
        }
    }

    public void Json(JsonNode? node) => Line(node?.ToJsonString(Indented) ?? "null");

    /// <summary>One JSON document on one line, for streams a script reads line by line.</summary>
    public void JsonLine(JsonNode? node) => Line(node?.ToJsonString() ?? "null");

    public void Fail(string message)
    {
        lock (_lock)
        {
            ClearStatus();
            Error.WriteLine($"platform: {message}");
            Error.Flush();
        }
    }

    public void Verbose(string message)
    {
        lock (_lock)
        {
            ClearStatus();
            Error.WriteLine(message);
        }
    }

    /// <summary>Replaces the progress line (stderr, terminal only); null removes it.</summary>
    public void Status(string? status)
    {
        if (!ShowsProgress) return;
        lock (_lock)
        {
            ClearStatus();
            _status = status;
            DrawStatus();
        }
    }

    public string Red(string text) => Paint("31", text);
    public string Green(string text) => Paint("32", text);
    public string Yellow(string text) => Paint("33", text);
    public string Bold(string text) => Paint("1", text);

    private string Paint(string code, string text) => Colour ? $"\e[{code}m{text}\e[0m" : text;

    private void ClearStatus()
    {
        if (_status is null) return;
        Error.Write("\r\e[K");
        Error.Flush();
    }

    private void DrawStatus()
    {
        if (_status is null) return;
        Error.Write(_status);
        Error.Flush();
    }
}
