using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Cli.Input;

/// <summary>
/// Sizes as cf users type them (<c>512M</c>, <c>1G</c>, <c>256MB</c>, <c>2048K</c>), in whole MiB as the
/// API takes them. The rule is the server's own (<c>Megabytes</c> in the task store, which the CLI does not
/// reference: it talks only HTTP); a unit test holds the two to the same answers.
/// </summary>
internal static partial class Sizes
{
    public static bool TryParseMegabytes(string text, out int megabytes, out string? error)
    {
        megabytes = 0;
        var match = SizePattern().Match(text.Trim());
        if (!match.Success)
        {
            error = $"'{text}' is not a size: use a whole number with a unit, like 512M or 1G.";
            return false;
        }
        var number = decimal.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var total = char.ToUpperInvariant(match.Groups["unit"].Value[0]) switch
        {
            'K' => Math.Ceiling(number / 1024),
            'M' => number,
            'G' => number * 1024,
            _ => number * 1024 * 1024,
        };
        if (total is < 1 or > int.MaxValue)
        {
            error = $"'{text}' is outside 1M to {int.MaxValue}M.";
            return false;
        }
        megabytes = (int)total;
        error = null;
        return true;
    }

    [GeneratedRegex(@"^(?<n>\d{1,12})\s?(?<unit>[KMGTkmgt])[Bb]?$")]
    private static partial Regex SizePattern();
}
