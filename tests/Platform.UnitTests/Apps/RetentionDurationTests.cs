using Platform.TaskStore.Apps;

namespace Platform.UnitTests.Apps;

public sealed class RetentionDurationTests
{
    [Theory]
    [InlineData("30d", 30 * 24 * 3600)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("90m", 90 * 60)]
    [InlineData("45s", 45)]
    [InlineData(" 7d ", 7 * 24 * 3600)]
    [InlineData("1.00:00:00", 24 * 3600)]
    [InlineData("00:30:00", 30 * 60)]
    public void Whole_numbers_with_a_unit_and_timespans_are_read(string text, int seconds)
    {
        Assert.True(RetentionDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("30")]
    [InlineData("30x")]
    [InlineData("30D")]
    [InlineData("-5d")]
    [InlineData("1.5h")]
    [InlineData("0d")]
    [InlineData("00:00:00")]
    [InlineData("-1.00:00:00")]
    [InlineData("99999999999999999999d")]
    [InlineData("40000d")]
    public void Anything_else_is_refused(string? text) =>
        Assert.False(RetentionDuration.TryParse(text, out _));
}
