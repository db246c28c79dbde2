using Platform.Api.Apps;
using Platform.TaskStore.Apps;

namespace Platform.UnitTests.Apps;

public sealed class AppValidationTests
{
    [Theory]
    [InlineData("billing")]
    [InlineData("a")]
    [InlineData("report-2")]
    public void Valid_names_pass(string name) =>
        Assert.Empty(AppEndpoints.Validate(new AppEndpoints.RegisterApp(name, "true", null, null, null)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Billing")]
    [InlineData("-lead")]
    [InlineData("has space")]
    public void Invalid_names_are_errors_on_name(string? name) =>
        Assert.Equal(["name"], AppEndpoints.Validate(new AppEndpoints.RegisterApp(name, "true", null, null, null)).Keys);

    [Fact]
    public void Each_bad_field_is_named()
    {
        var errors = AppEndpoints.Validate(new AppEndpoints.RegisterApp("ok", new string('x', 5000), new() { ["9"] = "" }, -5, 0));
        Assert.Equal(["command", "disk_in_mb", "env", "memory_in_mb"], errors.Keys.Order());
    }

    [Fact]
    public void Each_bad_retention_field_is_named_under_retention()
    {
        var retention = new AppRetention { MaxTasks = 0, MaxAge = "soon", MaxLogBytes = -1 };
        var errors = AppEndpoints.Validate(new AppEndpoints.RegisterApp("ok", "true", null, null, null, Retention: retention));
        Assert.Equal(["retention.max_age", "retention.max_log_bytes", "retention.max_tasks"], errors.Keys.Order());
    }

    [Fact]
    public void A_valid_retention_passes_and_every_field_may_be_left_out()
    {
        Assert.Empty(AppEndpoints.Validate(new AppEndpoints.RegisterApp("ok", "true", null, null, null, Retention:
            new AppRetention { MaxTasks = 50, MaxAge = "30d", MaxLogBytes = 1024 })));
        Assert.Empty(AppEndpoints.Validate(new AppEndpoints.RegisterApp("ok", "true", null, null, null, Retention: new AppRetention())));
    }
}
