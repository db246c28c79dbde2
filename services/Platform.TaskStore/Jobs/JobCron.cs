using Cronos;

namespace Platform.TaskStore.Jobs;

/// <summary>
/// A schedule's cron expression and time zone, parsed. One parser for the Api (which refuses bad input
/// with the bad part quoted) and the Scheduler (which computes occurrences).
/// </summary>
public sealed record JobCron(CronExpression Expression, TimeZoneInfo Zone)
{
    /// <summary>Parses 5 fields (minutes) or 6 (seconds first); null with field errors when either part is invalid.</summary>
    public static JobCron? TryParse(string? cron, string? timeZone, out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>();
        CronExpression? expression = null;
        TimeZoneInfo? zone = null;
        if (string.IsNullOrWhiteSpace(cron))
        {
            errors["cron"] = ["cron is required: 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first)."];
        }
        else
        {
            var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            try
            {
                expression = fields == 6
                    ? CronExpression.Parse(cron, CronFormat.IncludeSeconds)
                    : CronExpression.Parse(cron, CronFormat.Standard);
            }
            catch (CronFormatException ex)
            {
                errors["cron"] = [$"'{cron}' is not a valid cron expression: {ex.Message}"];
            }
        }

        var zoneId = string.IsNullOrWhiteSpace(timeZone) ? "UTC" : timeZone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            errors["time_zone"] = [$"'{zoneId}' is not a known IANA time zone (for example 'Europe/Berlin', 'America/New_York', 'UTC')."];
        }
        return errors.Count == 0 ? new JobCron(expression!, zone!) : null;
    }

    public static JobCron Parse(JobSchedule schedule) =>
        TryParse(schedule.Cron, schedule.TimeZone, out var errors)
        ?? throw new FormatException(string.Join(" ", errors.Values.SelectMany(e => e)));
}
