namespace Firewall.Core.Rules;

/// <summary>What the filter decides for a packet. The data path carries out REJECT (see <see cref="RejectKind"/>).</summary>
public enum Verdict : byte
{
    Accept = 0,
    Drop = 1,
    Reject = 2,
}

/// <summary>The filter table's built-in chains (netfilter hooks LOCAL_IN, FORWARD, LOCAL_OUT).</summary>
public enum FilterHook : byte
{
    Input = 0,
    Forward = 1,
    Output = 2,
}

/// <summary>The raw table's built-in chains: they run before connection tracking.</summary>
public enum RawHook : byte
{
    Prerouting = 0,
    Output = 1,
}

/// <summary>The two tables this engine implements.</summary>
public enum RuleTable : byte
{
    Filter = 0,
    Raw = 1,
}

/// <summary>How a REJECT answers. The names follow iptables' <c>--reject-with</c> values.</summary>
public enum RejectKind : byte
{
    None = 0,
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpProtoUnreachable,
    IcmpPortUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    IcmpAdminProhibited,
    Icmp6NoRoute,
    Icmp6AdmProhibited,
    Icmp6AddrUnreachable,
    Icmp6PortUnreachable,
    Icmp6PolicyFail,
    Icmp6RejectRoute,
    /// <summary>A TCP RST (both families; only valid in rules with <c>-p tcp</c>).</summary>
    TcpReset,
}

/// <summary>Names and wire values of <see cref="RejectKind"/>.</summary>
public static class RejectKinds
{
    /// <summary>The name iptables-save prints.</summary>
    public static string Name(RejectKind k) => k switch
    {
        RejectKind.IcmpNetUnreachable => "icmp-net-unreachable",
        RejectKind.IcmpHostUnreachable => "icmp-host-unreachable",
        RejectKind.IcmpProtoUnreachable => "icmp-proto-unreachable",
        RejectKind.IcmpPortUnreachable => "icmp-port-unreachable",
        RejectKind.IcmpNetProhibited => "icmp-net-prohibited",
        RejectKind.IcmpHostProhibited => "icmp-host-prohibited",
        RejectKind.IcmpAdminProhibited => "icmp-admin-prohibited",
        RejectKind.Icmp6NoRoute => "icmp6-no-route",
        RejectKind.Icmp6AdmProhibited => "icmp6-adm-prohibited",
        RejectKind.Icmp6AddrUnreachable => "icmp6-addr-unreachable",
        RejectKind.Icmp6PortUnreachable => "icmp6-port-unreachable",
        RejectKind.Icmp6PolicyFail => "icmp6-policy-fail",
        RejectKind.Icmp6RejectRoute => "icmp6-reject-route",
        RejectKind.TcpReset => "tcp-reset",
        _ => "none",
    };

    public static bool IsV4(RejectKind k) => k is >= RejectKind.IcmpNetUnreachable and <= RejectKind.IcmpAdminProhibited;
    public static bool IsV6(RejectKind k) => k is >= RejectKind.Icmp6NoRoute and <= RejectKind.Icmp6RejectRoute;

    /// <summary>Parses a <c>--reject-with</c> value (full names and iptables' short aliases) for one family (4 or 6).</summary>
    public static bool TryParse(string s, int family, out RejectKind kind)
    {
        kind = RejectKind.None;
        string v = s.ToLowerInvariant();
        if (v is "tcp-reset" or "tcp-rst") { kind = RejectKind.TcpReset; return true; }
        if (family == 4)
        {
            kind = v switch
            {
                "icmp-net-unreachable" or "net-unreach" => RejectKind.IcmpNetUnreachable,
                "icmp-host-unreachable" or "host-unreach" => RejectKind.IcmpHostUnreachable,
                "icmp-proto-unreachable" or "proto-unreach" => RejectKind.IcmpProtoUnreachable,
                "icmp-port-unreachable" or "port-unreach" => RejectKind.IcmpPortUnreachable,
                "icmp-net-prohibited" or "net-prohib" => RejectKind.IcmpNetProhibited,
                "icmp-host-prohibited" or "host-prohib" => RejectKind.IcmpHostProhibited,
                "icmp-admin-prohibited" or "admin-prohib" => RejectKind.IcmpAdminProhibited,
                _ => RejectKind.None,
            };
        }
        else
        {
            kind = v switch
            {
                "icmp6-no-route" or "no-route" => RejectKind.Icmp6NoRoute,
                "icmp6-adm-prohibited" or "adm-prohibited" => RejectKind.Icmp6AdmProhibited,
                "icmp6-addr-unreachable" or "addr-unreach" => RejectKind.Icmp6AddrUnreachable,
                "icmp6-port-unreachable" or "port-unreach" => RejectKind.Icmp6PortUnreachable,
                "icmp6-policy-fail" or "policy-fail" => RejectKind.Icmp6PolicyFail,
                "icmp6-reject-route" or "reject-route" => RejectKind.Icmp6RejectRoute,
                _ => RejectKind.None,
            };
        }
        return kind != RejectKind.None;
    }

    /// <summary>
    /// The closest kind of the other family, used when a rule that applies to both families names a
    /// family-specific kind (as nftables' icmpx does): unreachable → no-route/addr/port, prohibited → adm-prohibited.
    /// </summary>
    public static RejectKind CounterpartV6(RejectKind v4) => v4 switch
    {
        RejectKind.IcmpNetUnreachable => RejectKind.Icmp6NoRoute,
        RejectKind.IcmpHostUnreachable => RejectKind.Icmp6AddrUnreachable,
        RejectKind.IcmpProtoUnreachable or RejectKind.IcmpPortUnreachable => RejectKind.Icmp6PortUnreachable,
        RejectKind.IcmpNetProhibited or RejectKind.IcmpHostProhibited or RejectKind.IcmpAdminProhibited => RejectKind.Icmp6AdmProhibited,
        _ => v4,
    };

    /// <inheritdoc cref="CounterpartV6"/>
    public static RejectKind CounterpartV4(RejectKind v6) => v6 switch
    {
        RejectKind.Icmp6NoRoute or RejectKind.Icmp6RejectRoute => RejectKind.IcmpNetUnreachable,
        RejectKind.Icmp6AddrUnreachable => RejectKind.IcmpHostUnreachable,
        RejectKind.Icmp6PortUnreachable => RejectKind.IcmpPortUnreachable,
        RejectKind.Icmp6AdmProhibited or RejectKind.Icmp6PolicyFail => RejectKind.IcmpAdminProhibited,
        _ => v6,
    };

    /// <summary>ICMP / ICMPv6 type and code the data path sends for an ICMP kind; false for <see cref="RejectKind.TcpReset"/> and None.</summary>
    public static bool TryGetIcmp(RejectKind k, out byte type, out byte code)
    {
        (type, code) = k switch
        {
            RejectKind.IcmpNetUnreachable => ((byte)3, (byte)0),
            RejectKind.IcmpHostUnreachable => ((byte)3, (byte)1),
            RejectKind.IcmpProtoUnreachable => ((byte)3, (byte)2),
            RejectKind.IcmpPortUnreachable => ((byte)3, (byte)3),
            RejectKind.IcmpNetProhibited => ((byte)3, (byte)9),
            RejectKind.IcmpHostProhibited => ((byte)3, (byte)10),
            RejectKind.IcmpAdminProhibited => ((byte)3, (byte)13),
            RejectKind.Icmp6NoRoute => ((byte)1, (byte)0),
            RejectKind.Icmp6AdmProhibited => ((byte)1, (byte)1),
            RejectKind.Icmp6AddrUnreachable => ((byte)1, (byte)3),
            RejectKind.Icmp6PortUnreachable => ((byte)1, (byte)4),
            RejectKind.Icmp6PolicyFail => ((byte)1, (byte)5),
            RejectKind.Icmp6RejectRoute => ((byte)1, (byte)6),
            _ => ((byte)0, (byte)0),
        };
        return k != RejectKind.None && k != RejectKind.TcpReset;
    }
}
