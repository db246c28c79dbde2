using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Cli.Input;

/// <summary>Durations as <c>30s</c>, <c>10m</c>, <c>2h</c> or <c>1h30m</c>.</summary>
internal static partial class Durations
{
    public static bool TryParse(string text, out TimeSpan duration, out string? error)
    {
        duration = TimeSpan.Zero;
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || match.Groups["part"].Captures.Count == 0)
        {
            error = $"'{text}' is not a duration: use a number with a unit, like 30s, 10m, 2h or 1h30m.";
            return false;
        }
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var value = long.Parse(part.Value[..^1], CultureInfo.InvariantCulture);
            duration += part.Value[^1] switch
            {
                'h' => TimeSpan.FromHours(value),
                'm' => TimeSpan.FromMinutes(value),
                _ => TimeSpan.FromSeconds(value),
            };
        }
        if (duration <= TimeSpan.Zero)
        {
            error = $"'{text}' must be longer than zero.";
            return false;
        }
        error = null;
        return true;
    }

    [GeneratedRegex("^(?:(?<part>[0-9]{1,6}[hms]))+$")]
    private static partial Regex DurationPattern();
}
