using System.Globalization;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>
/// Entry selection as conntrack-tools' filters do it (-f, -p, -s/-d, -r/-q, --sport/--dport, --state, --status, --zone).
/// Addresses may carry a prefix length (198.18.0.0/15). An unset field matches everything. Serialisable (the control
/// socket carries it as JSON).
/// </summary>
public sealed class ConntrackFilter
{
    /// <summary>4, 6 or null (both).</summary>
    public int? Family { get; set; }
    /// <summary>Protocol name (tcp, udp, icmp, …) or number.</summary>
    public string? Protocol { get; set; }
    /// <summary>Original source / destination (-s / -d).</summary>
    public string? Source { get; set; }
    public string? Destination { get; set; }
    /// <summary>Reply source / destination (-r / -q).</summary>
    public string? ReplySource { get; set; }
    public string? ReplyDestination { get; set; }
    /// <summary>Original-direction ports (--sport / --dport).</summary>
    public int? SourcePort { get; set; }
    public int? DestinationPort { get; set; }
    /// <summary>Protocol state name (ESTABLISHED, SYN_SENT, …).</summary>
    public string? State { get; set; }
    /// <summary>Status flags, comma separated: ASSURED, SEEN_REPLY, UNREPLIED, EXPECTED.</summary>
    public string? Status { get; set; }
    public int? Zone { get; set; }

    public bool IsEmpty => Family is null && Protocol is null && Source is null && Destination is null && ReplySource is null &&
                           ReplyDestination is null && SourcePort is null && DestinationPort is null && State is null && Status is null && Zone is null;

    /// <summary>Checks every field; each problem names the option it came from.</summary>
    public List<string> Validate()
    {
        var e = new List<string>();
        if (Family is not (null or 4 or 6)) e.Add($"-f: family must be ipv4 or ipv6 (got {Family}).");
        if (Protocol is not null && !TryProtocol(Protocol, out _)) e.Add($"-p: unknown protocol \"{Protocol}\".");
        foreach (var (opt, value) in new[] { ("-s", Source), ("-d", Destination), ("-r", ReplySource), ("-q", ReplyDestination) })
            if (value is not null && !TryPrefix(value, out _, out _, out _)) e.Add($"{opt}: \"{value}\" is not an address or address/prefix.");
        if (SourcePort is < 0 or > 65535) e.Add($"--sport: {SourcePort} is not a port.");
        if (DestinationPort is < 0 or > 65535) e.Add($"--dport: {DestinationPort} is not a port.");
        if (State is not null && !KnownState(State)) e.Add($"--state: unknown state \"{State}\".");
        if (Status is not null)
            foreach (var s in Status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (StatusBit(s) is null) e.Add($"--status: unknown status \"{s}\" (ASSURED, SEEN_REPLY, UNREPLIED, EXPECTED).");
        if (Zone is < 0 or > 65535) e.Add($"--zone: {Zone} is not a zone.");
        return e;
    }

    /// <summary>Builds the matcher (call <see cref="Validate"/> first: invalid fields throw here).</summary>
    public Func<ConntrackEntrySnapshot, bool> Compile()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new FormatException(string.Join(" ", errors));
        byte? proto = Protocol is null ? null : TryProtocol(Protocol, out byte p) ? p : null;
        var src = Prefix(Source); var dst = Prefix(Destination); var rsrc = Prefix(ReplySource); var rdst = Prefix(ReplyDestination);
        int? family = Family;
        string? state = State?.ToUpperInvariant();
        CtStatus want = CtStatus.None;
        bool unreplied = false;
        if (Status is not null)
            foreach (var s in Status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (s.Equals("UNREPLIED", StringComparison.OrdinalIgnoreCase)) unreplied = true;
                else want |= StatusBit(s)!.Value;
            }
        int? sport = SourcePort, dport = DestinationPort, zone = Zone;
        return s =>
        {
            if (family is int f && s.Orig.Family != f) return false;
            if (proto is byte pr && s.Orig.Proto != pr) return false;
            if (!In(src, s.Orig.Src, s.Orig.IsV6) || !In(dst, s.Orig.Dst, s.Orig.IsV6)) return false;
            if (!In(rsrc, s.Reply.Src, s.Orig.IsV6) || !In(rdst, s.Reply.Dst, s.Orig.IsV6)) return false;
            if (sport is int sp && (!HasPorts(s.Orig.Proto) || s.Orig.SrcId != sp)) return false;
            if (dport is int dp && (!HasPorts(s.Orig.Proto) || s.Orig.DstId != dp)) return false;
            if (state is not null && !string.Equals(ConntrackFormatter.ProtoStateName(s.Orig.Proto, s.State), state, StringComparison.Ordinal)) return false;
            if ((s.Status & want) != want) return false;
            if (unreplied && (s.Status & CtStatus.SeenReply) != 0) return false;
            if (zone is int z && s.Orig.Zone != z) return false;
            return true;
        };
    }

    /// <summary>The same selection for an event (conntrack -E with filters).</summary>
    public Func<CtEvent, bool> CompileForEvents()
    {
        var m = Compile();
        return e =>
        {
            e.Orig.TryInvert(out var reply);
            return m(new ConntrackEntrySnapshot { Orig = e.Orig, Reply = reply, Status = e.Status, State = e.Orig.Proto == IpProto.Tcp ? (byte)e.TcpState : e.ProtoState });
        };
    }

    private static bool HasPorts(byte proto) => proto is IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp or IpProto.Dccp;

    private readonly record struct AddrPrefix(IpAddr Addr, int Length, bool IsV6);

    private static AddrPrefix? Prefix(string? text) =>
        text is not null && TryPrefix(text, out var a, out int len, out bool v6) ? new AddrPrefix(a, len, v6) : null;

    private static bool In(AddrPrefix? p, IpAddr a, bool isV6) =>
        p is not AddrPrefix x || (x.IsV6 == isV6 && a.InPrefix(x.Addr, x.Length, isV6));

    private static bool TryPrefix(string text, out IpAddr addr, out int length, out bool isV6)
    {
        int slash = text.IndexOf('/');
        string a = slash < 0 ? text : text[..slash];
        length = 0;
        if (!IpAddr.TryParse(a, out addr, out isV6)) return false;
        int max = isV6 ? 128 : 32;
        if (slash < 0) { length = max; return true; }
        return int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) && length <= max;
    }

    /// <summary>Protocol by conntrack name or number.</summary>
    public static bool TryProtocol(string text, out byte proto)
    {
        if (byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out proto)) return true;
        switch (text.ToLowerInvariant())
        {
            case "tcp": proto = IpProto.Tcp; return true;
            case "udp": proto = IpProto.Udp; return true;
            case "udplite": proto = IpProto.UdpLite; return true;
            case "icmp": proto = IpProto.Icmp; return true;
            case "icmpv6" or "ipv6-icmp": proto = IpProto.Icmpv6; return true;
            case "sctp": proto = IpProto.Sctp; return true;
            case "gre": proto = IpProto.Gre; return true;
            case "dccp": proto = IpProto.Dccp; return true;
            default: proto = 0; return false;
        }
    }

    private static bool KnownState(string s)
    {
        s = s.ToUpperInvariant();
        for (byte i = 0; i < 10; i++)
            if (ConntrackFormatter.ProtoStateName(IpProto.Tcp, i) == s || ConntrackFormatter.ProtoStateName(IpProto.Sctp, i) == s) return true;
        return false;
    }

    private static CtStatus? StatusBit(string s) => s.ToUpperInvariant() switch
    {
        "ASSURED" => CtStatus.Assured,
        "SEEN_REPLY" => CtStatus.SeenReply,
        "EXPECTED" => CtStatus.Expected,
        "UNREPLIED" => CtStatus.None,
        _ => null,
    };
}
