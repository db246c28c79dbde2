using Platform.Scheduler.Jobs.Scheduling;

namespace Platform.UnitTests.Jobs;

/// <summary>What the scheduling loop reloads when it wakes: the jobs notified since it last looked, or everything.</summary>
public sealed class ReloadSignalTests
{
    [Fact]
    public async Task Jobs_notified_before_the_loop_wakes_are_reloaded_together_in_one_wake_up()
    {
        var signal = new ReloadSignal();
        signal.Request("nightly");
        signal.Request("hourly");
        signal.Request("nightly");

        Assert.True(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
        var request = signal.TakeRequest();
        Assert.False(request.Everything);
        Assert.Equal(["hourly", "nightly"], request.Jobs.Order());
        Assert.False(signal.TryTake());
    }

    [Fact]
    public void A_request_for_everything_is_kept_beside_the_named_jobs()
    {
        var signal = new ReloadSignal();
        signal.Request("nightly");
        signal.Request();

        var request = signal.TakeRequest();
        Assert.True(request.Everything);
        Assert.Contains("nightly", request.Jobs);
    }

    [Fact]
    public void What_was_taken_is_forgotten_and_a_later_request_wakes_the_loop_again()
    {
        var signal = new ReloadSignal();
        signal.Request();
        Assert.True(signal.TryTake());
        Assert.True(signal.TakeRequest().Everything);

        var nothing = signal.TakeRequest();
        Assert.False(nothing.Everything);
        Assert.Empty(nothing.Jobs);

        signal.Request("weekly");
        Assert.True(signal.TryTake());
        Assert.Equal(["weekly"], signal.TakeRequest().Jobs);
    }
}
