using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.TaskStore.Tasks;

/// <summary>
/// Sizes as cf and kf users type them (<c>cf run-task -m 64M -k 1G</c>): a whole number with a unit of
/// K, M, G or T (optionally followed by B, any case), read as binary multiples and expressed in MiB.
/// </summary>
public static partial class Megabytes
{
    public static bool TryParse(string? text, out int megabytes, out string? error)
    {
        megabytes = 0;
        var match = text is null ? Match.Empty : SizePattern().Match(text.Trim());
        if (!match.Success)
        {
            error = $"'{text}' is not a size: use a whole number and a unit, as 8M, 512M or 1G.";
            return false;
        }
        var number = decimal.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
        var mib = char.ToUpperInvariant(match.Groups["unit"].Value[0]) switch
        {
            'K' => Math.Ceiling(number / 1024),
            'M' => number,
            'G' => number * 1024,
            _ => number * 1024 * 1024,
        };
        if (mib < 1 || mib > int.MaxValue)
        {
            error = $"'{text}' is outside 1M to {int.MaxValue}M.";
            return false;
        }
        megabytes = (int)mib;
        error = null;
        return true;
    }

    public static int Parse(string text) =>
        TryParse(text, out var megabytes, out var error) ? megabytes : throw new FormatException(error);

    [GeneratedRegex(@"^(?<number>\d{1,12})\s?(?<unit>[KMGTkmgt])[Bb]?$")]
    private static partial Regex SizePattern();
}
