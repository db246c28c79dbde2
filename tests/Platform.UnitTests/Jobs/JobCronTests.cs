using Platform.TaskStore.Jobs;

namespace Platform.UnitTests.Jobs;

public sealed class JobCronTests
{
    [Theory]
    [InlineData("*/5 * * * *")]
    [InlineData("0 9 * * MON-FRI")]
    [InlineData("*/2 * * * * *")]
    [InlineData("30 0 3 1 * *")]
    public void Five_and_six_field_expressions_parse(string expression)
    {
        Assert.NotNull(JobCron.TryParse(expression, "UTC", out var errors));
        Assert.Empty(errors);
    }

    [Fact]
    public void Six_fields_have_seconds_first()
    {
        var cron = JobCron.TryParse("15 * * * * *", "UTC", out _)!;

        Assert.Equal(DateTimeOffset.Parse("2027-01-01T00:00:15Z"), cron.Expression.GetNextOccurrence(DateTimeOffset.Parse("2027-01-01T00:00:00Z"), cron.Zone));
    }

    [Theory]
    [InlineData("61 * * * *")]
    [InlineData("* * *")]
    [InlineData("every day")]
    [InlineData("* * * * * * *")]
    public void An_invalid_expression_is_an_error_on_cron_that_quotes_it(string expression)
    {
        Assert.Null(JobCron.TryParse(expression, "UTC", out var errors));
        Assert.Contains($"'{expression}'", Assert.Single(errors["cron"]));
    }

    [Fact]
    public void An_unknown_time_zone_is_an_error_on_time_zone_that_quotes_it()
    {
        Assert.Null(JobCron.TryParse("* * * * *", "Mars/Olympus_Mons", out var errors));
        Assert.Contains("'Mars/Olympus_Mons'", Assert.Single(errors["time_zone"]));
        Assert.False(errors.ContainsKey("cron"));
    }

    [Fact]
    public void No_time_zone_means_utc()
    {
        Assert.Equal(TimeZoneInfo.Utc.Id, JobCron.TryParse("* * * * *", null, out _)!.Zone.Id);
    }

    [Fact]
    public void A_missing_cron_is_required()
    {
        Assert.Null(JobCron.TryParse(" ", "UTC", out var errors));
        Assert.Contains("required", errors["cron"][0]);
    }
}
