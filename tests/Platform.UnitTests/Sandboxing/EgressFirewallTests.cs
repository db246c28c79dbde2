using System.Net;
using Platform.Executor.Tasks.Sandboxing;
using Platform.TaskStore.Apps;

namespace Platform.UnitTests.Sandboxing;

public sealed class EgressFirewallTests
{
    [Fact]
    public void The_base_rules_deny_the_hosts_addresses_loopback_link_local_and_slirps_network_but_let_dns_through()
    {
        var rules = EgressFirewall.BaseRules([IPNetwork.Parse("192.0.2.2/32"), IPNetwork.Parse("198.51.100.0/24")]);

        Assert.Contains("ip daddr 10.0.2.3 meta l4proto { tcp, udp } th dport 53 accept", rules);
        Assert.Contains("ip daddr { 0.0.0.0/8, 10.0.2.0/24, 127.0.0.0/8, 169.254.0.0/16, 192.0.2.2, 198.51.100.0/24, 224.0.0.0/4, 255.255.255.255 } meta l4proto tcp reject with tcp reset", rules);
        Assert.Contains("meta nfproto ipv6 reject", rules);
        // The DNS exception comes before the deny of slirp's network, and the app's chain after every deny.
        Assert.True(rules.IndexOf("dport 53 accept", StringComparison.Ordinal) < rules.IndexOf("10.0.2.0/24", StringComparison.Ordinal));
        Assert.True(rules.LastIndexOf("reject", StringComparison.Ordinal) < rules.IndexOf("jump app", StringComparison.Ordinal));
    }

    [Fact]
    public void Blocks_inside_others_and_ipv6_addresses_are_left_out_of_the_set_since_nftables_refuses_overlaps()
    {
        var kept = EgressFirewall.WithoutOverlaps([
            IPNetwork.Parse("127.0.0.1/32"), IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("10.1.2.0/24"), IPNetwork.Parse("10.0.0.0/8"),
            IPNetwork.Parse("fd00::2/128"), IPNetwork.Parse("192.0.2.2/32"), IPNetwork.Parse("192.0.2.2/32"),
        ]);

        Assert.Equal(["10.0.0.0/8", "127.0.0.0/8", "192.0.2.2/32"], kept.Select(n => n.ToString()));
    }

    [Fact]
    public void An_open_or_no_network_policy_adds_no_rules()
    {
        Assert.Null(EgressFirewall.PolicyRules(new AppNetwork()));
        Assert.Null(EgressFirewall.PolicyRules(new AppNetwork { Egress = AppNetwork.None }));
    }

    [Fact]
    public void A_restricted_policy_allows_each_rule_and_rejects_everything_else()
    {
        var rules = EgressFirewall.PolicyRules(new AppNetwork
        {
            Egress = AppNetwork.Restricted,
            Allow =
            [
                new EgressRule { Protocol = "tcp", Destination = "203.0.113.0/24", Ports = "443,8000-8100" },
                new EgressRule { Protocol = "udp", Destination = "198.51.100.7" },
                new EgressRule { Protocol = "icmp", Destination = "198.51.100.8" },
                new EgressRule { Protocol = "all", Destination = "198.51.100.9" },
            ],
        })!;

        Assert.Equal(
            [
                "add rule inet platform app ip daddr 203.0.113.0/24 tcp dport { 443, 8000-8100 } accept",
                "add rule inet platform app ip daddr 198.51.100.7 meta l4proto udp accept",
                "add rule inet platform app ip daddr 198.51.100.8 meta l4proto icmp accept",
                "add rule inet platform app ip daddr 198.51.100.9 accept",
                "add rule inet platform app meta l4proto tcp reject with tcp reset",
                "add rule inet platform app reject with icmpx type admin-prohibited",
            ],
            rules.TrimEnd('\n').Split('\n'));
    }
}
