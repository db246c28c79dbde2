using Platform.TaskStore.Jobs;

namespace Platform.UnitTests.Jobs;

public sealed class OccurrenceIdsTests
{
    private static readonly Guid Schedule = Guid.Parse("0193f0a2-0000-7000-8000-000000000001");
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2027-03-14T07:00:00Z");

    [Fact]
    public void The_same_occurrence_always_gets_the_same_id_whatever_offset_it_is_written_in()
    {
        var inNewYork = At.ToOffset(TimeSpan.FromHours(-4));

        Assert.Equal(OccurrenceIds.For("nightly", Schedule, At), OccurrenceIds.For("nightly", Schedule, inNewYork));
    }

    [Fact]
    public void Job_schedule_and_instant_each_change_the_id()
    {
        var id = OccurrenceIds.For("nightly", Schedule, At);

        Assert.NotEqual(id, OccurrenceIds.For("weekly", Schedule, At));
        Assert.NotEqual(id, OccurrenceIds.For("nightly", Guid.NewGuid(), At));
        Assert.NotEqual(id, OccurrenceIds.For("nightly", Schedule, At.AddSeconds(1)));
    }

    [Fact]
    public void The_id_is_a_name_based_version_5_uuid()
    {
        var id = OccurrenceIds.For("nightly", Schedule, At);

        Assert.Equal(5, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
    }
}
