using System.Buffers.Binary;
using Firewall.Core.Rules;

namespace Firewall.Core.Packets;

/// <summary>
/// Crafts the answer a REJECT sends back toward the sender of a rejected packet, as the kernel's nf_reject does:
/// a TCP RST (<c>nf_send_reset</c> / <c>nf_send_reset6</c>) or an ICMP / ICMPv6 destination-unreachable error
/// (<c>nf_send_unreach</c> / <c>icmp_send</c> rules). Pure and allocation-free: writes into a caller buffer.
/// <para>
/// The answer's source address is the rejected packet's destination (the firewall answers on behalf of the host the
/// packet was for), its destination the packet's source. For Ethernet frames the MAC addresses are swapped and VLAN
/// tags are kept, so the frame can be injected back on the ingress NIC; for raw IP (NFQUEUE, TUN) only the IP packet
/// is written.
/// </para>
/// </summary>
public static class RejectBuilder
{
    /// <summary>Time to live / hop limit of the answers (the kernel's default ip_default_ttl / hop_limit).</summary>
    public const byte Ttl = 64;

    /// <summary>Largest ICMPv4 error the kernel sends (576 bytes, RFC 1812), including the IP header.</summary>
    public const int MaxIcmpV4Length = 576;

    /// <summary>Largest ICMPv6 error (IPv6 minimum MTU), including the IPv6 header.</summary>
    public const int MaxIcmpV6Length = 1280;

    /// <summary>A buffer of this size always holds the answer (link header with up to 4 VLAN tags + 1280).</summary>
    public const int MaxAnswerLength = 14 + 4 * 4 + MaxIcmpV6Length;

    /// <summary>
    /// Writes the answer to <paramref name="p"/> for <paramref name="kind"/> into <paramref name="output"/> and returns its
    /// length, or 0 when no answer is due: the packet is not IP, a non-first fragment, a TCP RST (or the kind is a TCP
    /// reset for a non-TCP packet), an ICMP error (errors are never answered), addressed to a multicast or broadcast
    /// address, or the buffer is too small.
    /// </summary>
    public static int Build(ref ParsedPacket p, RejectKind kind, Span<byte> output)
    {
        if (p.Error != ParseError.None || !p.IsIp || p.FragmentOffset != 0 || kind == RejectKind.None) return 0;
        if (IsMulticastOrBroadcast(in p)) return 0;

        int link = p.L3Offset; // link header (Ethernet + VLAN tags) copied with the MACs swapped
        if (kind == RejectKind.TcpReset)
        {
            if (p.Protocol != IpProto.Tcp || (p.TcpFlagBits & TcpRst) != 0 || p.TcpHeaderLength < 20) return 0;
            int ipLength = (p.IsV6 ? 40 : 20) + 20;
            if (output.Length < link + ipLength) return 0;
            WriteLinkHeader(in p, output);
            Span<byte> tcp = WriteIpHeader(in p, output[link..], IpProto.Tcp, 20);
            WriteRst(in p, tcp);
            uint sum = Checksum.PseudoHeader(p.Dst, p.Src, p.IsV6, IpProto.Tcp, 20);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum.Finish(Checksum.Sum(tcp[..20], sum)));
            return link + ipLength;
        }

        if (RejectKinds.IsV6(kind) != p.IsV6) kind = p.IsV6 ? RejectKinds.CounterpartV6(kind) : RejectKinds.CounterpartV4(kind);
        if (!RejectKinds.TryGetIcmp(kind, out byte type, out byte code)) return 0;
        if (PacketParser.IsIcmpErrorType(p.Protocol, p.IpVersion, p.IcmpType)) return 0; // errors are never answered

        int headerLength = p.IsV6 ? 40 : 20;
        int max = p.IsV6 ? MaxIcmpV6Length : MaxIcmpV4Length;
        int quoted = Math.Min(p.L3Length, max - headerLength - 8);
        if (quoted <= 0) return 0;
        int total = headerLength + 8 + quoted;
        if (output.Length < link + total) return 0;
        WriteLinkHeader(in p, output);
        byte proto = p.IsV6 ? IpProto.Icmpv6 : IpProto.Icmp;
        Span<byte> icmp = WriteIpHeader(in p, output[link..], proto, 8 + quoted);
        icmp[0] = type;
        icmp[1] = code;
        icmp[2] = icmp[3] = 0;
        icmp[4] = icmp[5] = icmp[6] = icmp[7] = 0; // unused (v4) / unused (v6 unreachable)
        p.Frame.Slice(p.L3Offset, quoted).CopyTo(icmp[8..]);
        uint icmpSum = p.IsV6 ? Checksum.PseudoHeader(p.Dst, p.Src, true, IpProto.Icmpv6, 8 + quoted) : 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum.Finish(Checksum.Sum(icmp[..(8 + quoted)], icmpSum)));
        return link + total;
    }

    private const byte TcpFin = 0x01, TcpSyn = 0x02, TcpRst = 0x04, TcpAck = 0x10;

    private static bool IsMulticastOrBroadcast(in ParsedPacket p)
    {
        if (p.IsV6) return (p.Dst.Hi >> 56) == 0xff;
        uint d = p.Dst.V4;
        return (d >> 28) == 0xe || d == 0xffffffff;
    }

    private static void WriteLinkHeader(in ParsedPacket p, Span<byte> output)
    {
        int link = p.L3Offset;
        if (link == 0) return;
        p.Frame[..link].CopyTo(output);
        if (p.LinkType == LinkType.Ethernet && link >= 14)
        {
            p.Frame.Slice(6, 6).CopyTo(output); // destination = the sender
            p.Frame[..6].CopyTo(output[6..]);   // source = whom the packet was for
        }
    }

    /// <summary>Writes the IP header (addresses swapped) and returns the span after it.</summary>
    private static Span<byte> WriteIpHeader(in ParsedPacket p, Span<byte> ip, byte proto, int payloadLength)
    {
        if (p.IsV6)
        {
            ip[..40].Clear();
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)payloadLength);
            ip[6] = proto;
            ip[7] = Ttl;
            p.Dst.WriteV6(ip[8..]);
            p.Src.WriteV6(ip[24..]);
            return ip.Slice(40, payloadLength);
        }
        ip[..20].Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + payloadLength));
        ip[6] = 0x40; // DF, as nf_reject_iphdr_put
        ip[8] = Ttl;
        ip[9] = proto;
        p.Dst.WriteV4(ip[12..]);
        p.Src.WriteV4(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Finish(Checksum.Sum(ip[..20])));
        return ip.Slice(20, payloadLength);
    }

    /// <summary>nf_reject_ip_tcphdr_put: answer an ACK with seq = its ack; otherwise seq 0 and ACK covering the segment.</summary>
    private static void WriteRst(in ParsedPacket p, Span<byte> tcp)
    {
        tcp[..20].Clear();
        BinaryPrimitives.WriteUInt16BigEndian(tcp, p.DstPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], p.SrcPort);
        tcp[12] = 5 << 4;
        if ((p.TcpFlagBits & TcpAck) != 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], p.Ack);
            tcp[13] = TcpRst;
        }
        else
        {
            uint segment = (uint)(p.L4Length - p.TcpHeaderLength)
                + ((p.TcpFlagBits & TcpSyn) != 0 ? 1u : 0u) + ((p.TcpFlagBits & TcpFin) != 0 ? 1u : 0u);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], p.Seq + segment);
            tcp[13] = TcpRst | TcpAck;
        }
    }
}
