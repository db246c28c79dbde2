using System.Net;

namespace Platform.TaskStore.Apps;

/// <summary>
/// Where an app's tasks may connect, in the spirit of Cloud Foundry's application security groups. Whatever
/// the mode, the sandbox never lets a task reach the host it runs on, the platform's own servers or the
/// link-local range; this only narrows what is left. Shown and accepted by the API as
/// <c>network: { egress: "open" | "restricted" | "none", allow: [{ protocol, destination, ports }] }</c>.
/// </summary>
public sealed class AppNetwork
{
    /// <summary>Outbound connections to any destination but the denied ones (the default: migrations and API calls need it).</summary>
    public const string Open = "open";

    /// <summary>Only the destinations in <see cref="Allow"/> (and the sandbox's DNS resolver).</summary>
    public const string Restricted = "restricted";

    /// <summary>No network at all: the task sees only its own loopback interface.</summary>
    public const string None = "none";

    public const int MaxRules = 64;

    public static readonly AppNetwork Default = new();

    public string Egress { get; set; } = Open;

    public List<EgressRule> Allow { get; set => field = value ?? []; } = [];

    /// <summary>Field errors, keyed by the field's API name below <c>network</c>; empty when valid.</summary>
    public IEnumerable<(string Field, string Error)> Errors()
    {
        if (Egress is not (Open or Restricted or None))
            yield return ("egress", $"egress must be \"{Open}\", \"{Restricted}\" or \"{None}\".");
        if (Allow.Count > 0 && Egress != Restricted)
            yield return ("allow", $"allow applies only with egress \"{Restricted}\".");
        if (Allow.Count > MaxRules)
            yield return ("allow", $"at most {MaxRules} rules.");
        for (var i = 0; i < Allow.Count; i++)
            foreach (var (field, error) in Allow[i].Errors())
                yield return ($"allow[{i}].{field}", error);
    }
}

/// <summary>One allowed destination: a protocol, an IPv4 address or CIDR block, and ports (CF's ASG rule shape).</summary>
public sealed class EgressRule
{
    public const string Tcp = "tcp", Udp = "udp", Icmp = "icmp", All = "all";

    public string Protocol { get; set; } = All;

    /// <summary>An IPv4 address (<c>203.0.113.7</c>) or block (<c>203.0.113.0/24</c>).</summary>
    public string Destination { get; set; } = "";

    /// <summary>Null for every port; else <c>443</c>, <c>80,443</c> or <c>8000-8100</c> (tcp and udp only).</summary>
    public string? Ports { get; set; }

    public IEnumerable<(string Field, string Error)> Errors()
    {
        if (Protocol is not (Tcp or Udp or Icmp or All))
            yield return ("protocol", $"protocol must be \"{Tcp}\", \"{Udp}\", \"{Icmp}\" or \"{All}\".");
        if (!TryParseDestination(Destination, out _))
            yield return ("destination", "destination must be an IPv4 address or CIDR block such as 203.0.113.0/24.");
        if (Ports is not null)
        {
            if (Protocol is not (Tcp or Udp))
                yield return ("ports", "ports apply only to tcp and udp.");
            else if (!TryParsePorts(Ports, out _))
                yield return ("ports", "ports must be a port, a list (80,443) or a range (8000-8100), each between 1 and 65535.");
        }
    }

    public static bool TryParseDestination(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        if (!text.Contains('/'))
        {
            if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return false;
            network = new IPNetwork(address, 32);
            return true;
        }
        // 10.0.0.1/8 is ambiguous (a host, or its network?): only a block's own base address is accepted.
        return IPNetwork.TryParse(text, out network) && network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
               && network.BaseAddress.ToString() == text.Split('/')[0];
    }

    /// <summary>Ports as (first, last) ranges.</summary>
    public static bool TryParsePorts(string text, out List<(int First, int Last)> ranges)
    {
        ranges = [];
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-', 2, StringSplitOptions.TrimEntries);
            if (!int.TryParse(bounds[0], out var first)) return false;
            var last = first;
            if (bounds.Length == 2 && !int.TryParse(bounds[1], out last)) return false;
            if (first is < 1 or > 65535 || last is < 1 or > 65535 || last < first) return false;
            ranges.Add((first, last));
        }
        return ranges.Count > 0;
    }
}
