using System.Globalization;
using System.Text.Json.Nodes;
using Platform.Cli.Output;

namespace Platform.Cli.Logs;

/// <summary>
/// cf's log line: <c>2026-11-23T13:29:09.33+0000 [APP/TASK/monthly] OUT report for 2026-10</c>, with
/// stderr marked <c>ERR</c> (and red on a terminal with colour).
/// </summary>
internal static class LogLine
{
    public static string Format(JsonNode line, string taskName, Terminal terminal)
    {
        var timestamp = line["timestamp"]!.GetValue<DateTimeOffset>().ToLocalTime();
        var offset = timestamp.Offset;
        var stamp = timestamp.ToString("yyyy-MM-dd'T'HH:mm:ss.ff", CultureInfo.InvariantCulture)
            + (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString("hhmm", CultureInfo.InvariantCulture);
        var error = line["stream"]?.GetValue<string>() == "stderr";
        var text = line["line"]?.GetValue<string>() ?? "";
        var source = $"[APP/TASK/{taskName}]";
        return error
            ? $"{stamp} {source} {terminal.Red("ERR")} {terminal.Red(text)}"
            : $"{stamp} {source} OUT {text}";
    }
}
