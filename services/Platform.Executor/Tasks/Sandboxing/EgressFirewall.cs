using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.TaskStore.Apps;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// The nftables rules of a task's network namespace, installed by the executor before the task starts (the
/// task, without CAP_NET_ADMIN, cannot change them). Traffic leaves the namespace through slirp4netns, which
/// makes the task's connections from the host; these rules decide which it may make. Denied, whatever the
/// app asks for: the host's own addresses (slirp would otherwise connect to the host's services), the
/// platform's servers, loopback, link-local (cloud metadata), slirp's own network but its DNS, multicast,
/// broadcast and IPv6. Then the app's policy: open (everything else), or only its allow-list.
/// </summary>
internal static class EgressFirewall
{
    public const string SandboxDns = "10.0.2.3";

    /// <summary>Always denied, wherever the executor runs.</summary>
    public static readonly IReadOnlyList<IPNetwork> AlwaysDenied =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.2.0/24"), IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("255.255.255.255/32"),
    ];

    /// <summary>The namespace's rules before an app's policy: the denied destinations, then a jump to the (empty) <c>app</c> chain.</summary>
    public static string BaseRules(IEnumerable<IPNetwork> denied)
    {
        var set = string.Join(", ", WithoutOverlaps(AlwaysDenied.Concat(denied)).Select(Format));
        return $$"""
                 table inet platform {
                   chain app {
                   }
                   chain output {
                     type filter hook output priority 0; policy accept;
                     oifname "lo" accept
                     meta nfproto ipv6 reject with icmpx type admin-prohibited
                     ip daddr {{SandboxDns}} meta l4proto { tcp, udp } th dport 53 accept
                     ip daddr { {{set}} } meta l4proto tcp reject with tcp reset
                     ip daddr { {{set}} } reject with icmpx type admin-prohibited
                     jump app
                   }
                 }

                 """;
    }

    /// <summary>The <c>app</c> chain's rules for a policy; null when there are none to add (open, or no network at all).</summary>
    public static string? PolicyRules(AppNetwork policy)
    {
        if (policy.Egress != AppNetwork.Restricted) return null;
        var rules = new StringBuilder();
        foreach (var rule in policy.Allow)
        {
            if (!EgressRule.TryParseDestination(rule.Destination, out var destination)) continue; // validated by the Api
            var match = $"ip daddr {Format(destination)}";
            match += rule.Protocol switch
            {
                EgressRule.Tcp or EgressRule.Udp when rule.Ports is not null && EgressRule.TryParsePorts(rule.Ports, out var ports) =>
                    $" {rule.Protocol} dport {{ {string.Join(", ", ports.Select(p => p.First == p.Last ? $"{p.First}" : $"{p.First}-{p.Last}"))} }}",
                EgressRule.Tcp or EgressRule.Udp => $" meta l4proto {rule.Protocol}",
                EgressRule.Icmp => " meta l4proto icmp",
                _ => "",
            };
            rules.Append($"add rule inet platform app {match} accept\n");
        }
        rules.Append("add rule inet platform app meta l4proto tcp reject with tcp reset\n");
        rules.Append("add rule inet platform app reject with icmpx type admin-prohibited\n");
        return rules.ToString();
    }

    /// <summary>IPv4 blocks with every block inside another one left out: nftables refuses overlapping intervals in a set.</summary>
    public static IReadOnlyList<IPNetwork> WithoutOverlaps(IEnumerable<IPNetwork> networks)
    {
        var kept = new List<IPNetwork>();
        foreach (var network in networks.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork).OrderBy(n => n.PrefixLength))
            if (!kept.Any(k => k.Contains(network.BaseAddress))) kept.Add(network);
        return kept.OrderBy(n => n.BaseAddress.GetAddressBytes(), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
    }

    private static string Format(IPNetwork network) => network.PrefixLength == 32 ? network.BaseAddress.ToString() : network.ToString();
}
