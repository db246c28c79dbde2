using System.Globalization;

namespace Platform.TaskStore.Apps;

/// <summary>
/// How long retention keeps a finished task, written as people say it: a whole number and a unit,
/// <c>30d</c>, <c>12h</c>, <c>90m</c> or <c>45s</c>. Configuration may also use .NET's TimeSpan form
/// (<c>30.00:00:00</c>), since that is what a reader of appsettings expects.
/// </summary>
public static class RetentionDuration
{
    /// <summary>Longer than any sane retention, short enough that <c>now - age</c> never underflows.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(36_500);

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        // A bare number would be read by TimeSpan as days: too easy to mistake, so a TimeSpan needs a colon.
        if (TryParseWithUnit(text, out duration) || (text.Contains(':') && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration)))
            return duration > TimeSpan.Zero && duration <= Max;
        return false;
    }

    private static bool TryParseWithUnit(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length < 2) return false;
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount)) return false;
        // Past the maximum in any unit: checked here so that the multiplication below cannot overflow.
        if (amount > Max.TotalSeconds) return false;
        TimeSpan? parsed = text[^1] switch
        {
            'd' => TimeSpan.FromDays(amount),
            'h' => TimeSpan.FromHours(amount),
            'm' => TimeSpan.FromMinutes(amount),
            's' => TimeSpan.FromSeconds(amount),
            _ => null,
        };
        duration = parsed ?? default;
        return parsed is not null;
    }
}
