using Cronos;

namespace Platform.Cli.Input;

/// <summary>
/// A schedule checked before it is sent, with the server's parser (Cronos, the same version through
/// Directory.Packages.props) and the server's rule (5 fields, or 6 with seconds first; see JobCron in the
/// task store). A unit test holds the two to the same answers.
/// </summary>
internal static class CronCheck
{
    public static string? Error(string cron, string? timeZone)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            return $"'{cron}' is not a valid cron expression: {ex.Message}";
        }
        if (string.IsNullOrWhiteSpace(timeZone)) return null;
        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(timeZone);
            return null;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return $"'{timeZone}' is not a known IANA time zone (for example 'Europe/Berlin', 'UTC').";
        }
    }
}
