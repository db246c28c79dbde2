using Platform.TaskStore.Apps;

namespace Platform.UnitTests.Apps;

public sealed class AppNetworkTests
{
    [Fact]
    public void The_default_is_open_egress_with_no_rules() => Assert.Empty(new AppNetwork().Errors());

    [Fact]
    public void Each_bad_field_is_named_with_its_rules_index()
    {
        var errors = new AppNetwork
        {
            Egress = AppNetwork.Restricted,
            Allow =
            [
                new EgressRule { Protocol = "tcp", Destination = "203.0.113.0/24", Ports = "443" },
                new EgressRule { Protocol = "sctp", Destination = "10.0.0.1/8", Ports = "0-70000" },
                new EgressRule { Protocol = "icmp", Destination = "fd00::1", Ports = "80" },
            ],
        }.Errors().ToDictionary(e => e.Field, e => e.Error);

        Assert.Equal(["allow[1].protocol", "allow[1].destination", "allow[1].ports", "allow[2].destination", "allow[2].ports"], errors.Keys);
    }

    [Theory]
    [InlineData("wide")]
    [InlineData("")]
    public void An_unknown_egress_is_refused(string egress) => Assert.Contains(new AppNetwork { Egress = egress }.Errors(), e => e.Field == "egress");

    [Fact]
    public void An_allow_list_without_restricted_egress_is_refused_rather_than_ignored() =>
        Assert.Contains(new AppNetwork { Allow = [new EgressRule { Destination = "203.0.113.7" }] }.Errors(), e => e.Field == "allow");

    [Theory]
    [InlineData("80", true)]
    [InlineData("80,443", true)]
    [InlineData("8000-8100", true)]
    [InlineData("443, 8000-8100", true)]
    [InlineData("0", false)]
    [InlineData("90-80", false)]
    [InlineData("http", false)]
    [InlineData("", false)]
    public void Ports_are_cf_style(string ports, bool valid) => Assert.Equal(valid, EgressRule.TryParsePorts(ports, out _));
}
