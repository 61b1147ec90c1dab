using System.Globalization;
using System.Text;
using Firewall.Core.Packets;

namespace Firewall.Integration.Tests.Differential;

/// <summary>One-line, tcpdump-like description of a parsed packet for disagreement reports.</summary>
public static class PacketSummary
{
    public static string Describe(in ParsedPacket p) => Describe(in p, embedded: false);

    /// <param name="embedded">A packet quoted in an ICMP error: only its tuple fields are decoded.</param>
    private static string Describe(in ParsedPacket p, bool embedded)
    {
        if (!p.IsIp) return $"non-IP frame ({p.Error})";
        var sb = new StringBuilder();
        bool v6 = p.IsV6;
        string src = p.Src.ToString(v6), dst = p.Dst.ToString(v6);
        string Ep(string a, ushort port) => v6 ? $"[{a}]:{port}" : $"{a}:{port}";
        switch (p.Protocol)
        {
            case IpProto.Tcp when p.Error == ParseError.None && embedded:
                sb.Append(CultureInfo.InvariantCulture, $"TCP{(v6 ? "6" : "")} {Ep(src, p.SrcPort)} > {Ep(dst, p.DstPort)}");
                break;
            case IpProto.Tcp when p.Error == ParseError.None:
                sb.Append(CultureInfo.InvariantCulture, $"TCP{(v6 ? "6" : "")} {Ep(src, p.SrcPort)} > {Ep(dst, p.DstPort)} [{TcpFlagsText(p.TcpFlagBits)}] seq {p.Seq} ack {p.Ack} win {p.Window} len {p.PayloadLength}");
                break;
            case IpProto.Udp or IpProto.UdpLite when p.Error == ParseError.None:
                sb.Append(CultureInfo.InvariantCulture, $"{(p.Protocol == IpProto.Udp ? "UDP" : "UDPLITE")}{(v6 ? "6" : "")} {Ep(src, p.SrcPort)} > {Ep(dst, p.DstPort)}");
                if (!embedded) sb.Append(CultureInfo.InvariantCulture, $" len {p.PayloadLength}");
                break;
            case IpProto.Sctp when p.Error == ParseError.None:
                sb.Append(CultureInfo.InvariantCulture, $"SCTP{(v6 ? "6" : "")} {Ep(src, p.SrcPort)} > {Ep(dst, p.DstPort)}");
                break;
            case IpProto.Icmp or IpProto.Icmpv6 when p.Error == ParseError.None:
                sb.Append(CultureInfo.InvariantCulture, $"{(p.Protocol == IpProto.Icmp ? "ICMP" : "ICMPv6")} {src} > {dst} type {p.IcmpType} code {p.IcmpCode} id {p.IcmpId}");
                if (p.InnerL3Offset > 0 && PacketParser.ParseEmbedded(in p, out ParsedPacket inner) == ParseError.None)
                    sb.Append(" quoting {").Append(Describe(in inner, embedded: true)).Append('}');
                break;
            default:
                sb.Append(CultureInfo.InvariantCulture, $"IPv{p.IpVersion} proto {p.Protocol} {src} > {dst} len {p.L3Length}");
                break;
        }
        if (p.Error != ParseError.None) sb.Append(CultureInfo.InvariantCulture, $" (parse: {p.Error})");
        if (p.IsFragment) sb.Append(CultureInfo.InvariantCulture, $" (fragment offset {p.FragmentOffset})");
        return sb.ToString();
    }

    public static string TcpFlagsText(byte flags)
    {
        if (flags == 0) return "none";
        var sb = new StringBuilder(8);
        if ((flags & TcpFlags.Fin) != 0) sb.Append('F');
        if ((flags & TcpFlags.Syn) != 0) sb.Append('S');
        if ((flags & TcpFlags.Rst) != 0) sb.Append('R');
        if ((flags & TcpFlags.Psh) != 0) sb.Append('P');
        if ((flags & TcpFlags.Ack) != 0) sb.Append('.');
        if ((flags & TcpFlags.Urg) != 0) sb.Append('U');
        if ((flags & TcpFlags.Ece) != 0) sb.Append('E');
        if ((flags & TcpFlags.Cwr) != 0) sb.Append('W');
        return sb.ToString();
    }
}
