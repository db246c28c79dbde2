using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.UnitTests.Tasks;

public sealed class TaskDefinitionTests
{
    private static readonly App App = new()
    {
        Name = "billing", Command = "bin/report", MemoryInMb = 512, DiskInMb = 2048,
        Env = new Dictionary<string, string> { ["A"] = "1" },
    };

    private static TaskOverrides Overrides(string? command = null, string? name = null, int? memory = null, int? disk = null,
        Dictionary<string, string>? env = null) => new(command, name, memory, disk, env);

    [Fact]
    public void A_request_without_overrides_inherits_the_apps_command_and_limits()
    {
        var id = Guid.NewGuid();
        var accepted = TaskDefinition.Accept(id, 4, Overrides(), App, DateTimeOffset.UnixEpoch);
        Assert.Equal(("bin/report", 512, 2048, 4L, "billing"), (accepted.Command, accepted.MemoryInMb, accepted.DiskInMb, accepted.SequenceId, accepted.App));
        Assert.Equal(TaskDefinition.GeneratedName(id), accepted.Name);
    }

    [Fact]
    public void Overrides_replace_the_apps_values()
    {
        var accepted = TaskDefinition.Accept(Guid.NewGuid(), 1, Overrides("echo hi", "migrate", 64, 128, new() { ["B"] = "2" }), App, DateTimeOffset.UnixEpoch);
        Assert.Equal(("echo hi", "migrate", 64, 128), (accepted.Command, accepted.Name, accepted.MemoryInMb, accepted.DiskInMb));
        Assert.Equal("2", accepted.Env["B"]);
    }

    [Theory]
    [InlineData(null, "command")]
    [InlineData("", "command")]
    [InlineData("   ", "command")]
    public void A_missing_command_is_an_error_on_command(string? command, string field)
    {
        var app = new App { Name = "empty", Command = "" };
        Assert.Contains(field, TaskDefinition.Validate(Overrides(command), app).Keys);
    }

    [Fact]
    public void Commands_are_limited_to_4096_characters_as_in_cloud_foundry()
    {
        Assert.Empty(TaskDefinition.Validate(Overrides(new string('x', 4096)), App));
        Assert.Contains("command", TaskDefinition.Validate(Overrides(new string('x', 4097)), App).Keys);
    }

    [Theory]
    [InlineData(0, null, "memory_in_mb")]
    [InlineData(-1, null, "memory_in_mb")]
    [InlineData(64 * 1024 + 1, null, "memory_in_mb")]
    [InlineData(null, 0, "disk_in_mb")]
    [InlineData(null, 1024 * 1024 + 1, "disk_in_mb")]
    public void Limits_outside_the_sane_range_name_their_field(int? memory, int? disk, string field)
    {
        var errors = TaskDefinition.Validate(Overrides(memory: memory, disk: disk), App);
        Assert.Equal([field], errors.Keys);
    }

    [Theory]
    [InlineData("1ABC")]
    [InlineData("A-B")]
    [InlineData("")]
    [InlineData("A B")]
    public void Invalid_environment_variable_names_are_refused(string name)
    {
        Assert.Contains("env", TaskDefinition.Validate(Overrides(env: new() { [name] = "x" }), App).Keys);
    }

    [Fact]
    public void Generated_names_are_eight_hex_digits_and_differ_for_neighbouring_ids()
    {
        var names = Enumerable.Range(0, 100).Select(_ => TaskDefinition.GeneratedName(Guid.CreateVersion7())).ToList();
        Assert.All(names, n => Assert.Matches("^[0-9a-f]{8}$", n));
        Assert.Equal(100, names.Distinct().Count());
    }
}
