using System.Globalization;
using Firewall.Core.Packets;

namespace Firewall.Core.Rules.Parsing;

/// <summary>Protocol, service, ICMP and state names as iptables spells them.</summary>
public static class Names
{
    public static bool TryParseProtocol(string s, out byte proto)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            proto = (byte)n;
            return n is >= 0 and <= 255;
        }
        int p = s.ToLowerInvariant() switch
        {
            "all" => 0,
            "tcp" => IpProto.Tcp,
            "udp" => IpProto.Udp,
            "udplite" => IpProto.UdpLite,
            "icmp" => IpProto.Icmp,
            "ipv6-icmp" or "icmpv6" or "icmp6" => IpProto.Icmpv6,
            "sctp" => IpProto.Sctp,
            "dccp" => IpProto.Dccp,
            "gre" => IpProto.Gre,
            "esp" => IpProto.Esp,
            "ah" => IpProto.Ah,
            "igmp" => IpProto.Igmp,
            "ipencap" => 4,
            "ipv6" => 41,
            "ospf" => 89,
            "pim" => 103,
            "vrrp" => 112,
            "mh" or "ipv6-mh" => 135,
            _ => -1,
        };
        proto = (byte)Math.Max(p, 0);
        return p >= 0;
    }

    /// <summary>The name iptables-save prints for a protocol (a number when it has none).</summary>
    public static string ProtocolName(byte p) => p switch
    {
        0 => "all",
        IpProto.Tcp => "tcp",
        IpProto.Udp => "udp",
        IpProto.UdpLite => "udplite",
        IpProto.Icmp => "icmp",
        IpProto.Icmpv6 => "ipv6-icmp",
        IpProto.Sctp => "sctp",
        IpProto.Dccp => "dccp",
        IpProto.Gre => "gre",
        IpProto.Esp => "esp",
        IpProto.Ah => "ah",
        IpProto.Igmp => "igmp",
        135 => "mh",
        _ => p.ToString(CultureInfo.InvariantCulture),
    };

    private static readonly Dictionary<string, ushort> Services = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ftp-data"] = 20, ["ftp"] = 21, ["ssh"] = 22, ["telnet"] = 23, ["smtp"] = 25, ["domain"] = 53,
        ["bootps"] = 67, ["bootpc"] = 68, ["tftp"] = 69, ["http"] = 80, ["www"] = 80, ["kerberos"] = 88,
        ["pop3"] = 110, ["sunrpc"] = 111, ["ntp"] = 123, ["imap"] = 143, ["imap2"] = 143, ["snmp"] = 161,
        ["ldap"] = 389, ["https"] = 443, ["isakmp"] = 500, ["syslog"] = 514, ["submissions"] = 465,
        ["submission"] = 587, ["ipp"] = 631, ["ldaps"] = 636, ["imaps"] = 993, ["pop3s"] = 995,
        ["openvpn"] = 1194, ["mysql"] = 3306, ["ms-wbt-server"] = 3389, ["ipsec-nat-t"] = 4500,
        ["postgresql"] = 5432, ["http-alt"] = 8080, ["ircd"] = 6667,
    };

    public static bool TryParsePort(string s, out ushort port)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            port = (ushort)n;
            return n is >= 0 and <= 65535;
        }
        return Services.TryGetValue(s, out port);
    }

    /// <summary>Parses <c>P</c>, <c>A:B</c>, <c>:B</c> (0:B) or <c>A:</c> (A:65535).</summary>
    public static bool TryParsePortRange(string s, out ushort lo, out ushort hi, out string error)
    {
        lo = 0; hi = 65535; error = "";
        int colon = s.IndexOf(':');
        if (colon < 0)
        {
            if (!TryParsePort(s, out lo)) { error = $"\"{s}\" is not a port"; return false; }
            hi = lo;
            return true;
        }
        string a = s[..colon], b = s[(colon + 1)..];
        if (a.Length > 0 && !TryParsePort(a, out lo)) { error = $"\"{a}\" is not a port"; return false; }
        if (b.Length > 0 && !TryParsePort(b, out hi)) { error = $"\"{b}\" is not a port"; return false; }
        if (lo > hi) { error = $"invalid port range \"{s}\" (min > max)"; return false; }
        return true;
    }

    public static string PortRange(ushort lo, ushort hi) =>
        lo == hi ? lo.ToString(CultureInfo.InvariantCulture) : $"{lo}:{hi}";

    // ---- ICMP ----

    private static readonly (string Name, byte Type, byte CodeLo, byte CodeHi)[] Icmp4 =
    [
        ("any", 0xFF, 0, 0xFF), ("echo-reply", 0, 0, 0xFF), ("pong", 0, 0, 0xFF),
        ("destination-unreachable", 3, 0, 0xFF), ("network-unreachable", 3, 0, 0), ("host-unreachable", 3, 1, 1),
        ("protocol-unreachable", 3, 2, 2), ("port-unreachable", 3, 3, 3), ("fragmentation-needed", 3, 4, 4),
        ("source-route-failed", 3, 5, 5), ("network-unknown", 3, 6, 6), ("host-unknown", 3, 7, 7),
        ("network-prohibited", 3, 9, 9), ("host-prohibited", 3, 10, 10), ("TOS-network-unreachable", 3, 11, 11),
        ("TOS-host-unreachable", 3, 12, 12), ("communication-prohibited", 3, 13, 13),
        ("host-precedence-violation", 3, 14, 14), ("precedence-cutoff", 3, 15, 15), ("source-quench", 4, 0, 0xFF),
        ("redirect", 5, 0, 0xFF), ("network-redirect", 5, 0, 0), ("host-redirect", 5, 1, 1),
        ("TOS-network-redirect", 5, 2, 2), ("TOS-host-redirect", 5, 3, 3), ("echo-request", 8, 0, 0xFF),
        ("ping", 8, 0, 0xFF), ("router-advertisement", 9, 0, 0xFF), ("router-solicitation", 10, 0, 0xFF),
        ("time-exceeded", 11, 0, 0xFF), ("ttl-exceeded", 11, 0, 0xFF), ("ttl-zero-during-transit", 11, 0, 0),
        ("ttl-zero-during-reassembly", 11, 1, 1), ("parameter-problem", 12, 0, 0xFF), ("ip-header-bad", 12, 0, 0),
        ("required-option-missing", 12, 1, 1), ("timestamp-request", 13, 0, 0xFF), ("timestamp-reply", 14, 0, 0xFF),
        ("address-mask-request", 17, 0, 0xFF), ("address-mask-reply", 18, 0, 0xFF),
    ];

    private static readonly (string Name, byte Type, byte CodeLo, byte CodeHi)[] Icmp6 =
    [
        ("destination-unreachable", 1, 0, 0xFF), ("no-route", 1, 0, 0), ("communication-prohibited", 1, 1, 1),
        ("beyond-scope", 1, 2, 2), ("address-unreachable", 1, 3, 3), ("port-unreachable", 1, 4, 4),
        ("failed-policy", 1, 5, 5), ("reject-route", 1, 6, 6), ("packet-too-big", 2, 0, 0xFF),
        ("time-exceeded", 3, 0, 0xFF), ("ttl-exceeded", 3, 0, 0xFF), ("ttl-zero-during-transit", 3, 0, 0),
        ("ttl-zero-during-reassembly", 3, 1, 1), ("parameter-problem", 4, 0, 0xFF), ("bad-header", 4, 0, 0),
        ("unknown-header-type", 4, 1, 1), ("unknown-option", 4, 2, 2), ("echo-request", 128, 0, 0xFF),
        ("ping", 128, 0, 0xFF), ("echo-reply", 129, 0, 0xFF), ("pong", 129, 0, 0xFF),
        ("mld-listener-query", 130, 0, 0xFF), ("mld-listener-report", 131, 0, 0xFF),
        ("mld-listener-done", 132, 0, 0xFF), ("mld2-listener-report", 143, 0, 0xFF),
        ("router-solicitation", 133, 0, 0xFF), ("router-advertisement", 134, 0, 0xFF),
        ("neighbour-solicitation", 135, 0, 0xFF), ("neighbor-solicitation", 135, 0, 0xFF),
        ("neighbour-advertisement", 136, 0, 0xFF), ("neighbor-advertisement", 136, 0, 0xFF),
        ("redirect", 137, 0, 0xFF),
    ];

    /// <summary>Parses an ICMP(v6) type: a name, <c>TYPE</c> or <c>TYPE/CODE</c>. Type 0xFF (v4 only) means any.</summary>
    public static bool TryParseIcmpType(string s, bool v6, out byte type, out byte codeLo, out byte codeHi)
    {
        type = 0; codeLo = 0; codeHi = 0xFF;
        foreach (var e in v6 ? Icmp6 : Icmp4)
        {
            if (string.Equals(e.Name, s, StringComparison.OrdinalIgnoreCase))
            {
                (type, codeLo, codeHi) = (e.Type, e.CodeLo, e.CodeHi);
                return true;
            }
        }
        int slash = s.IndexOf('/');
        string t = slash < 0 ? s : s[..slash];
        if (!byte.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out type)) return false;
        if (slash < 0) return v6 || type != 0xFF;
        if (!byte.TryParse(s[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out codeLo)) return false;
        codeHi = codeLo;
        return true;
    }

    /// <summary>iptables-save form: <c>any</c>, <c>TYPE</c> or <c>TYPE/CODE</c>.</summary>
    public static string IcmpType(byte type, byte codeLo, byte codeHi, bool v6)
    {
        if (!v6 && type == 0xFF) return "any";
        if (codeLo == 0 && codeHi == 0xFF) return type.ToString(CultureInfo.InvariantCulture);
        return $"{type}/{codeLo}";
    }

    // ---- conntrack states ----

    public const ushort StateSnat = 1 << 8;
    public const ushort StateDnat = 1 << 9;

    private static readonly (string Name, ushort Bit)[] StateOrder =
    [
        ("INVALID", 1), ("NEW", 8), ("RELATED", 4), ("ESTABLISHED", 2), ("UNTRACKED", 64), ("SNAT", StateSnat), ("DNAT", StateDnat),
    ];

    /// <summary>Parses a comma list of states; SNAT/DNAT only for <c>--ctstate</c>.</summary>
    public static bool TryParseStates(string list, bool allowNat, out ushort mask, out string error)
    {
        mask = 0; error = "";
        foreach (string part in list.Split(','))
        {
            ushort bit = 0;
            foreach (var (name, b) in StateOrder)
                if (string.Equals(name, part, StringComparison.OrdinalIgnoreCase) && (allowNat || b < StateSnat)) bit = b;
            if (bit == 0) { error = $"bad state \"{part}\""; return false; }
            mask |= bit;
        }
        return true;
    }

    /// <summary>States in iptables-save's canonical order: INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT.</summary>
    public static string States(ushort mask)
    {
        var parts = new List<string>(7);
        foreach (var (name, b) in StateOrder) if ((mask & b) != 0) parts.Add(name);
        return string.Join(',', parts);
    }

    private static readonly (string Name, ushort Bit)[] StatusOrder =
    [
        ("NONE", 0), ("EXPECTED", 1), ("SEEN_REPLY", 2), ("ASSURED", 4), ("CONFIRMED", 8),
    ];

    public static bool TryParseStatus(string list, out ushort mask, out string error)
    {
        mask = 0; error = "";
        foreach (string part in list.Split(','))
        {
            int bit = -1;
            foreach (var (name, b) in StatusOrder)
                if (string.Equals(name, part, StringComparison.OrdinalIgnoreCase)) bit = b;
            if (bit < 0) { error = $"bad status \"{part}\""; return false; }
            mask |= (ushort)bit;
        }
        return true;
    }

    /// <summary>Status bits in canonical order EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED (NONE when empty).</summary>
    public static string Status(ushort mask)
    {
        if (mask == 0) return "NONE";
        var parts = new List<string>(4);
        foreach (var (name, b) in StatusOrder) if (b != 0 && (mask & b) != 0) parts.Add(name);
        return string.Join(',', parts);
    }

    // ---- TCP flags ----

    private static readonly (string Name, byte Bit)[] TcpFlagNames =
    [
        ("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20), ("ECE", 0x40), ("CWR", 0x80),
    ];

    public static bool TryParseTcpFlags(string list, out byte mask, out string error)
    {
        mask = 0; error = "";
        foreach (string part in list.Split(','))
        {
            if (part.Equals("ALL", StringComparison.OrdinalIgnoreCase)) { mask |= 0x3F; continue; }
            if (part.Equals("NONE", StringComparison.OrdinalIgnoreCase)) continue;
            int bit = -1;
            foreach (var (name, b) in TcpFlagNames)
                if (string.Equals(name, part, StringComparison.OrdinalIgnoreCase)) bit = b;
            if (bit < 0) { error = $"unknown TCP flag \"{part}\""; return false; }
            mask |= (byte)bit;
        }
        return true;
    }

    /// <summary>Flags as iptables-save prints them (FIN,SYN,RST,PSH,ACK,URG order; NONE when empty).</summary>
    public static string TcpFlagList(byte mask)
    {
        if (mask == 0) return "NONE";
        var parts = new List<string>(8);
        foreach (var (name, b) in TcpFlagNames) if ((mask & b) != 0) parts.Add(name);
        return string.Join(',', parts);
    }

    // ---- syslog levels ----

    public static bool TryParseLogLevel(string s, out byte level)
    {
        if (byte.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out level)) return level <= 7;
        int l = s.ToLowerInvariant() switch
        {
            "emerg" or "panic" => 0, "alert" => 1, "crit" => 2, "err" or "error" => 3,
            "warning" or "warn" => 4, "notice" => 5, "info" => 6, "debug" => 7, _ => -1,
        };
        level = (byte)Math.Max(l, 0);
        return l >= 0;
    }

    /// <summary>Quotes a string argument the way iptables-save does (xtables_save_string).</summary>
    public static string Quote(string value)
    {
        bool plain = value.Length > 0;
        foreach (char c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-')) { plain = false; break; }
        if (plain) return value;
        var sb = new System.Text.StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (char c in value)
        {
            if (c is '"' or '\\' or '\'') sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}
