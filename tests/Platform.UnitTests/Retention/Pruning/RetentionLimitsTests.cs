using Platform.Retention;
using Platform.Retention.Pruning;
using Platform.TaskStore.Apps;

namespace Platform.UnitTests.Retention.Pruning;

public sealed class RetentionLimitsTests
{
    [Fact]
    public void Without_an_app_override_the_configured_limits_hold()
    {
        var limits = RetentionLimits.Resolve(new RetentionOptions(), null);

        Assert.Equal(new RetentionLimits(500, null, null), limits);
    }

    [Fact]
    public void An_app_override_replaces_each_configured_limit_it_sets_and_only_those()
    {
        var configured = new RetentionOptions { MaxTasksPerApp = 500, MaxAge = "30d", MaxLogBytesPerTask = 1_000_000 };

        var limits = RetentionLimits.Resolve(configured, new AppRetention { MaxTasks = 1000, MaxAge = "12h" });

        Assert.Equal(new RetentionLimits(1000, TimeSpan.FromHours(12), 1_000_000), limits);
    }

    [Fact]
    public void Configured_limits_fill_in_what_the_app_leaves_out()
    {
        var configured = new RetentionOptions { MaxTasksPerApp = 200, MaxAge = "7d" };

        var limits = RetentionLimits.Resolve(configured, new AppRetention { MaxLogBytes = 4096 });

        Assert.Equal(new RetentionLimits(200, TimeSpan.FromDays(7), 4096), limits);
    }
}
