using System.Globalization;
using Firewall.Core.Conntrack;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// One differential scenario: traffic sent through the lab router while the kernel logs each forwarded
/// packet's conntrack state. Crafted scenarios are functions of <c>diff_scenarios.py</c> with the same name;
/// real ones run programs (curl, socat, ping, python -m http.server) from C#.
/// </summary>
/// <param name="RouterSysctls">net.netfilter.* values set in the router for this scenario (short names, e.g.
/// "nf_conntrack_udp_timeout"); the engine gets the same values through <see cref="EngineOptions"/>.</param>
/// <param name="Drive">For real-program scenarios: starts what must run before the capture, runs the traffic inside
/// <see cref="DiffLab.Captured"/> and returns that capture. Null for crafted scenarios.</param>
/// <param name="RawRules">Rules appended to the router's raw PREROUTING chain for this scenario only (e.g. the
/// <c>-j CT --helper ftp</c> rules that assign the kernel's helpers); the engine replays the capture through the
/// pipeline with the same raw table, read back from the router with iptables-save.</param>
/// <param name="MinKernelRelated">The scenario is only meaningful if the kernel classified at least this many packets
/// RELATED (e.g. the data connections a helper announced): fewer means the lab, not the engine, went wrong.</param>
public sealed record DiffScenario(
    string Name,
    string Description,
    IReadOnlyDictionary<string, int> RouterSysctls,
    Func<DiffLab, ScenarioCapture>? Drive = null,
    IReadOnlyList<RawRule>? RawRules = null,
    int MinKernelRelated = 0)
{
    public bool IsCrafted => Drive is null;

    public IReadOnlyList<RawRule> RouterRawRules => RawRules ?? [];

    public override string ToString() => Name;

    /// <summary>Engine options equal to the kernel defaults plus this scenario's router sysctls.</summary>
    public ConntrackOptions EngineOptions()
    {
        var o = new ConntrackOptions();
        foreach (var (key, value) in RouterSysctls)
        {
            if (!SysctlToOption.TryGetValue(key, out var apply))
                throw new InvalidOperationException($"Scenario {Name}: sysctl {key} has no engine option mapping; add one to {nameof(SysctlToOption)}.");
            apply(o, value);
        }
        return o;
    }

    /// <summary>Router sysctl (net.netfilter.*) → engine option, one entry per tunable scenarios may change.</summary>
    public static readonly IReadOnlyDictionary<string, Action<ConntrackOptions, int>> SysctlToOption =
        new Dictionary<string, Action<ConntrackOptions, int>>
        {
            ["nf_conntrack_checksum"] = (o, v) => o.Checksum = v != 0,
            ["nf_conntrack_tcp_loose"] = (o, v) => o.TcpLoose = v != 0,
            ["nf_conntrack_tcp_be_liberal"] = (o, v) => o.TcpBeLiberal = v != 0,
            ["nf_conntrack_tcp_ignore_invalid_rst"] = (o, v) => o.TcpIgnoreInvalidRst = v != 0,
            ["nf_conntrack_tcp_max_retrans"] = (o, v) => o.TcpMaxRetrans = v,
            ["nf_conntrack_udp_timeout"] = (o, v) => o.Timeouts.Udp = v,
            ["nf_conntrack_udp_timeout_stream"] = (o, v) => o.Timeouts.UdpStream = v,
            ["nf_conntrack_icmp_timeout"] = (o, v) => o.Timeouts.Icmp = v,
            ["nf_conntrack_icmpv6_timeout"] = (o, v) => o.Timeouts.Icmpv6 = v,
            ["nf_conntrack_generic_timeout"] = (o, v) => o.Timeouts.Generic = v,
            ["nf_conntrack_gre_timeout"] = (o, v) => o.Timeouts.Gre = v,
            ["nf_conntrack_gre_timeout_stream"] = (o, v) => o.Timeouts.GreStream = v,
            ["nf_conntrack_tcp_timeout_syn_sent"] = (o, v) => o.Timeouts.TcpSynSent = v,
            ["nf_conntrack_tcp_timeout_syn_recv"] = (o, v) => o.Timeouts.TcpSynRecv = v,
            ["nf_conntrack_tcp_timeout_established"] = (o, v) => o.Timeouts.TcpEstablished = v,
            ["nf_conntrack_tcp_timeout_fin_wait"] = (o, v) => o.Timeouts.TcpFinWait = v,
            ["nf_conntrack_tcp_timeout_close_wait"] = (o, v) => o.Timeouts.TcpCloseWait = v,
            ["nf_conntrack_tcp_timeout_last_ack"] = (o, v) => o.Timeouts.TcpLastAck = v,
            ["nf_conntrack_tcp_timeout_unacknowledged"] = (o, v) => o.Timeouts.TcpUnacknowledged = v,
            ["nf_conntrack_tcp_timeout_close"] = (o, v) => o.Timeouts.TcpClose = v,
            ["nf_conntrack_tcp_timeout_time_wait"] = (o, v) => o.Timeouts.TcpTimeWait = v,
        };

    public static string SysctlPath(string shortName) => "net.netfilter." + shortName;

    public static string FormatSysctls(IReadOnlyDictionary<string, int> sysctls) =>
        sysctls.Count == 0 ? "defaults" : string.Join(", ", sysctls.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}")));
}

/// <summary>
/// One rule for the router's raw PREROUTING chain: the arguments after <c>-t raw -A PREROUTING</c>, for iptables
/// (<paramref name="Family"/> 4), ip6tables (6) or both (0).
/// </summary>
public sealed record RawRule(int Family, params string[] Args)
{
    public bool AppliesTo(int family) => Family == 0 || Family == family;

    /// <summary>The kernel's FTP helper for control connections to tcp/21 (IPv4 and IPv6).</summary>
    public static readonly RawRule FtpHelper = new(0, "-p", "tcp", "--dport", "21", "-j", "CT", "--helper", "ftp");

    /// <summary>The kernel's TFTP helper for requests to udp/69 (IPv4 and IPv6).</summary>
    public static readonly RawRule TftpHelper = new(0, "-p", "udp", "--dport", "69", "-j", "CT", "--helper", "tftp");

    /// <summary>The kernel's IRC helper for tcp/6667 (it exists for IPv4 only).</summary>
    public static readonly RawRule IrcHelper = new(4, "-p", "tcp", "--dport", "6667", "-j", "CT", "--helper", "irc");

    public override string ToString() => (Family == 0 ? "" : $"(IPv{Family}) ") + string.Join(' ', Args);
}
