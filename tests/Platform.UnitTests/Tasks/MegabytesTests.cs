using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Tasks;

public sealed class MegabytesTests
{
    [Theory]
    [InlineData("8M", 8)]
    [InlineData("64M", 64)]
    [InlineData("64MB", 64)]
    [InlineData("64mb", 64)]
    [InlineData("1G", 1024)]
    [InlineData("2GB", 2048)]
    [InlineData("1T", 1024 * 1024)]
    [InlineData("2048K", 2)]
    [InlineData("1500K", 2)]
    [InlineData(" 512M ", 512)]
    public void Sizes_are_read_as_cf_users_type_them(string text, int expected)
    {
        Assert.True(Megabytes.TryParse(text, out var megabytes, out var error), error);
        Assert.Equal(expected, megabytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("64")]
    [InlineData("M")]
    [InlineData("-1G")]
    [InlineData("1.5G")]
    [InlineData("0M")]
    [InlineData("10X")]
    [InlineData(null)]
    public void Anything_else_is_refused_with_a_message_that_quotes_it(string? text)
    {
        Assert.False(Megabytes.TryParse(text, out _, out var error));
        Assert.Contains($"'{text}'", error);
    }
}
