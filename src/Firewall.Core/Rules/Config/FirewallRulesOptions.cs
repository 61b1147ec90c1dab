using System.ComponentModel;
using System.Globalization;

namespace Firewall.Core.Rules.Config;

/// <summary>
/// The <c>Firewall:Rules</c> configuration section: iptables-save files to load, filter and raw chains written as
/// JSON rules (or iptables strings), user-defined chains, address sets and the LOG ring. Bindable with
/// Microsoft.Extensions.Configuration.Binder; <see cref="Validate"/> names the key of every problem.
/// Compile with <see cref="RulesConfigCompiler"/>.
/// </summary>
public sealed class FirewallRulesOptions
{
    public const string SectionPath = "Firewall:Rules";

    /// <summary>iptables-save / ip6tables-save files; their rules come before the JSON rules of the same chain.</summary>
    public List<IptablesSaveFileOptions> IptablesSaveFiles { get; set; } = [];
    public FilterTableOptions Filter { get; set; } = new();
    /// <summary>User-defined chains of the filter table, by name.</summary>
    public Dictionary<string, ChainOptions> Chains { get; set; } = new(StringComparer.Ordinal);
    public RawTableOptions Raw { get; set; } = new();
    /// <summary>Address sets for <c>-m set --match-set NAME</c> / "MatchSet": networks, addresses or FIRST-LAST ranges, IPv4 and IPv6 mixed.</summary>
    public Dictionary<string, List<string>> Sets { get; set; } = new(StringComparer.Ordinal);
    public RuleLogOptions Log { get; set; } = new();

    /// <summary>
    /// Every problem in the inline configuration (file contents are checked by <see cref="RulesConfigCompiler.Compile"/>),
    /// each as "KEY:PATH: message"; empty when valid.
    /// </summary>
    public List<string> Validate(string prefix = SectionPath) => RulesConfigCompiler.Validate(this, prefix);
}

/// <summary>One iptables-save file: a path, or an object with Path and Family ("IPv4" / "IPv6"; absent = tell from the content).</summary>
[TypeConverter(typeof(IptablesSaveFileOptionsConverter))]
public sealed class IptablesSaveFileOptions
{
    public string Path { get; set; } = "";
    public string? Family { get; set; }
}

/// <summary>Lets a plain string in the IptablesSaveFiles list bind as <see cref="IptablesSaveFileOptions.Path"/>.</summary>
public sealed class IptablesSaveFileOptionsConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string s ? new IptablesSaveFileOptions { Path = s } : base.ConvertFrom(context, culture, value);
}

public sealed class FilterTableOptions
{
    public BuiltInChainOptions Input { get; set; } = new();
    public BuiltInChainOptions Forward { get; set; } = new();
    public BuiltInChainOptions Output { get; set; } = new();
}

public sealed class RawTableOptions
{
    public BuiltInChainOptions Prerouting { get; set; } = new();
    public BuiltInChainOptions Output { get; set; } = new();
    /// <summary>User-defined chains of the raw table.</summary>
    public Dictionary<string, ChainOptions> Chains { get; set; } = new(StringComparer.Ordinal);
}

public sealed class BuiltInChainOptions
{
    /// <summary>ACCEPT or DROP; absent = ACCEPT unless an iptables-save file sets it.</summary>
    public string? Policy { get; set; }
    public List<RuleOptions> Rules { get; set; } = [];
}

public sealed class ChainOptions
{
    public List<RuleOptions> Rules { get; set; } = [];
}

/// <summary>
/// One rule. Either <see cref="Iptables"/> (the rule in iptables syntax, without "-A CHAIN") or the named keys below.
/// String values may start with "!" to invert (as iptables' "!"); list values invert with "!" on the first item.
/// A rule applies to both families unless it names addresses, ICMP (v4) or ICMPv6, or sets <see cref="Family"/>.
/// </summary>
public sealed class RuleOptions
{
    /// <summary>The whole rule in iptables syntax, e.g. "-p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT".</summary>
    public string? Iptables { get; set; }
    /// <summary>"IPv4" or "IPv6".</summary>
    public string? Family { get; set; }
    public string? InInterface { get; set; }
    public string? OutInterface { get; set; }
    /// <summary>tcp, udp, udplite, icmp, icmpv6 (ipv6-icmp), sctp, gre, esp, ah, all, or a number.</summary>
    public string? Protocol { get; set; }
    /// <summary>Address or network; a comma list expands into one rule per address.</summary>
    public string? Source { get; set; }
    public string? Destination { get; set; }
    /// <summary>Port, "A:B" range, or comma list of ports and ranges (needs Protocol).</summary>
    public string? SPort { get; set; }
    public string? DPort { get; set; }
    /// <summary>Connection states (INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED): -m conntrack --ctstate.</summary>
    public List<string>? State { get; set; }
    /// <summary>EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED: -m conntrack --ctstatus.</summary>
    public List<string>? CtStatus { get; set; }
    /// <summary>ORIGINAL or REPLY.</summary>
    public string? CtDirection { get; set; }
    /// <summary>ICMP or ICMPv6 type: a name ("echo-request"), number or TYPE/CODE (needs Protocol icmp or icmpv6).</summary>
    public string? IcmpType { get; set; }
    /// <summary>"MASK COMP", e.g. "FIN,SYN,RST,ACK SYN" (needs Protocol tcp).</summary>
    public string? TcpFlags { get; set; }
    /// <summary>true = --syn, false = ! --syn (needs Protocol tcp).</summary>
    public bool? Syn { get; set; }
    /// <summary>Rate such as "5/sec", "10/minute": -m limit.</summary>
    public string? Limit { get; set; }
    public int? LimitBurst { get; set; }
    /// <summary>Name of a set under Sets.</summary>
    public string? MatchSet { get; set; }
    /// <summary>"src" (default) or "dst".</summary>
    public string? MatchSetDirection { get; set; }
    public string? Comment { get; set; }
    /// <summary>ACCEPT, DROP, REJECT, LOG, RETURN, a chain name; raw table: CT, NOTRACK.</summary>
    public string? Action { get; set; }
    /// <summary>A chain to go to (-g) instead of an Action.</summary>
    public string? Goto { get; set; }
    public string? RejectWith { get; set; }
    public string? LogPrefix { get; set; }
    public string? LogLevel { get; set; }
    /// <summary>CT --helper: ftp, irc (tcp) or tftp (udp).</summary>
    public string? Helper { get; set; }
    /// <summary>CT --zone.</summary>
    public int? Zone { get; set; }
}

/// <summary>The LOG target's ring buffer and rate limit.</summary>
public sealed class RuleLogOptions
{
    public int RingSize { get; set; } = 1024;
    /// <summary>Records per second (0 = unlimited).</summary>
    public int RatePerSecond { get; set; } = 100;
    public int Burst { get; set; } = 50;

    public RuleLogRing CreateRing() => new(RingSize, RatePerSecond, Burst);

    internal void Validate(string prefix, List<string> errors)
    {
        if (RingSize < 2 || RingSize > 1 << 20) errors.Add($"{prefix}:RingSize: must be between 2 and 1048576 (got {RingSize})");
        if (RatePerSecond < 0 || RatePerSecond > 1_000_000) errors.Add($"{prefix}:RatePerSecond: must be between 0 and 1000000 (got {RatePerSecond})");
        if (Burst < 1 || Burst > 1_000_000) errors.Add($"{prefix}:Burst: must be between 1 and 1000000 (got {Burst})");
    }
}
