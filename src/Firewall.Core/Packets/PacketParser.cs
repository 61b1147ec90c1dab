using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Firewall.Core.Packets;

/// <summary>
/// Decodes one captured frame into a <see cref="ParsedPacket"/>: link header, IPv4/IPv6 (with the
/// extension-header chain), and the L4 header fields conntrack and the rules need. Strict about the
/// outer packet, tolerant about the IP packet quoted inside an ICMP error (<see cref="ParseEmbedded(ReadOnlySpan{byte}, int, out ParsedPacket)"/>).
/// Never throws, never reads outside the frame, never allocates, never verifies checksums.
/// </summary>
public static class PacketParser
{
    /// <summary>VLAN tags (802.1Q / 802.1ad / 0x9100) followed before giving up (the frame is then <see cref="ParseError.NotIp"/>).</summary>
    public const int MaxVlanTags = 4;

    /// <summary>IPv6 extension headers followed before the chain counts as malformed.</summary>
    public const int MaxExtensionHeaders = 16;

    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeIpv6 = 0x86DD;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeQinQ = 0x88A8;
    public const ushort EtherTypeVlanOld = 0x9100;

    private const int EthernetHeaderLength = 14;
    private const int SllHeaderLength = 16;
    private const int Sll2HeaderLength = 20;
    private const int NflogHeaderLength = 4;
    private const int NfulaPacketHdr = 1;
    private const int NfulaPayload = 9;
    private const int NfulaPrefix = 10;
    private const int NlaTypeMask = 0x3fff; // strips NLA_F_NESTED / NLA_F_NET_BYTEORDER
    private const byte AfInet = 2;
    private const byte AfInet6 = 10;

    /// <summary>
    /// Parses <paramref name="frame"/> captured on a link of type <paramref name="link"/>.
    /// Returns <see cref="ParseError.None"/> when the packet was decoded down to its L4 header, and also
    /// for a non-first fragment (whose L4 fields stay zero: see <see cref="ParsedPacket.IsFragment"/>) and for
    /// IPv6 "no next header" (protocol 59, L4 length 0). <see cref="ParseError.NotIp"/> means a well-formed non-IP
    /// frame (<see cref="ParsedPacket.EtherType"/> tells which). The result is also stored in <see cref="ParsedPacket.Error"/>;
    /// fields decoded before an error are kept (e.g. the addresses of a packet with a truncated TCP header).
    /// </summary>
    public static ParseError Parse(ReadOnlySpan<byte> frame, LinkType link, out ParsedPacket p)
    {
        Init(frame, out p);
        p.LinkType = link;
        ParseError e = ParseLink(frame, link, ref p, out int l3, out int l3End, out int version);
        if (e == ParseError.None)
            e = version == 4 ? ParseIpv4(frame, l3, l3End, embedded: false, ref p) : ParseIpv6(frame, l3, l3End, embedded: false, ref p);
        p.Error = e;
        return e;
    }

    /// <summary>
    /// Parses the IP packet quoted inside an ICMP/ICMPv6 error that starts at <paramref name="innerL3Offset"/> of the
    /// outer <paramref name="frame"/> (offsets in <paramref name="inner"/> stay relative to that frame). Tolerant of
    /// truncation: the quoted packet's declared length may exceed what is there (<see cref="ParsedPacket.L3DeclaredLength"/>
    /// keeps it; <see cref="ParsedPacket.L3Length"/> is what is available). Needs only what a tuple needs: 4 bytes of
    /// L4 for TCP/UDP/UDP-Lite/SCTP/DCCP, 8 for ICMP/ICMPv6, none for other protocols. A quoted non-first fragment
    /// fails with <see cref="ParseError.TruncatedL4Header"/> (and <see cref="ParsedPacket.IsFragment"/> set).
    /// The IP version comes from the quoted header's version nibble; <see cref="ParsedPacket.InnerL3Offset"/> stays 0.
    /// </summary>
    public static ParseError ParseEmbedded(ReadOnlySpan<byte> frame, int innerL3Offset, out ParsedPacket inner) =>
        ParseEmbedded(frame, innerL3Offset, frame.Length, out inner);

    /// <summary>As <see cref="ParseEmbedded(ReadOnlySpan{byte}, int, out ParsedPacket)"/> for the error in <paramref name="outer"/>,
    /// bounded by the outer IP packet's end (so link-layer padding is never read as quoted data).</summary>
    public static ParseError ParseEmbedded(in ParsedPacket outer, out ParsedPacket inner) =>
        ParseEmbedded(outer.Frame, outer.InnerL3Offset, outer.L3Offset + outer.L3Length, out inner);

    /// <summary>As <see cref="ParseEmbedded(ReadOnlySpan{byte}, int, out ParsedPacket)"/>, reading no byte at or beyond <paramref name="end"/>.</summary>
    public static ParseError ParseEmbedded(ReadOnlySpan<byte> frame, int innerL3Offset, int end, out ParsedPacket inner)
    {
        Init(frame, out inner);
        ParseError e;
        if ((uint)end > (uint)frame.Length || innerL3Offset <= 0 || innerL3Offset >= end)
            e = ParseError.TruncatedIpHeader;
        else
        {
            int version = frame[innerL3Offset] >> 4;
            e = version switch
            {
                4 => ParseIpv4(frame, innerL3Offset, end, embedded: true, ref inner),
                6 => ParseIpv6(frame, innerL3Offset, end, embedded: true, ref inner),
                _ => ParseError.BadIpVersion,
            };
        }
        inner.Error = e;
        return e;
    }

    /// <summary>True when the IPv4 header checksum of <paramref name="p"/> is right; true for IPv6 (no header checksum),
    /// false when <paramref name="p"/> is not an IP packet.</summary>
    public static bool Ipv4HeaderChecksumOk(ref ParsedPacket p)
    {
        if (p.IpVersion == 6) return true;
        if (p.IpVersion != 4 || p.L3HeaderLength < 20 || p.L3Offset + p.L3HeaderLength > p.Frame.Length) return false;
        return Checksum.IsValid(p.Frame.Slice(p.L3Offset, p.L3HeaderLength));
    }

    /// <summary>True for the ICMP (v4) and ICMPv6 types the parser treats as errors quoting a packet (ICMPv6 137 redirect excluded: conntrack decides).</summary>
    public static bool IsIcmpErrorType(byte protocol, int ipVersion, byte type) =>
        protocol == IpProto.Icmp && ipVersion == 4
            ? type is 3 or 4 or 5 or 11 or 12
            : protocol == IpProto.Icmpv6 && ipVersion == 6 && type < 128;

    private static void Init(ReadOnlySpan<byte> frame, out ParsedPacket p)
    {
        p = default;
        p.Frame = frame;
        p.VlanId = -1;
        p.NflogHook = -1;
        p.WindowScale = -1;
    }

    // ---------------------------------------------------------------- link layer

    private static ParseError ParseLink(ReadOnlySpan<byte> f, LinkType link, ref ParsedPacket p, out int l3, out int l3End, out int version)
    {
        l3 = 0;
        l3End = f.Length;
        version = 0;
        switch (link)
        {
            case LinkType.Ethernet:
                if (f.Length < EthernetHeaderLength) return ParseError.TruncatedLinkHeader;
                return EtherTypeChain(f, BinaryPrimitives.ReadUInt16BigEndian(f.Slice(12)), EthernetHeaderLength, ref p, out l3, out version);
            case LinkType.LinuxSll:
                if (f.Length < SllHeaderLength) return ParseError.TruncatedLinkHeader;
                return EtherTypeChain(f, BinaryPrimitives.ReadUInt16BigEndian(f.Slice(14)), SllHeaderLength, ref p, out l3, out version);
            case LinkType.LinuxSll2:
                if (f.Length < Sll2HeaderLength) return ParseError.TruncatedLinkHeader;
                return EtherTypeChain(f, BinaryPrimitives.ReadUInt16BigEndian(f), Sll2HeaderLength, ref p, out l3, out version);
            case LinkType.RawIp:
                if (f.Length < 1) return ParseError.TruncatedIpHeader;
                version = f[0] >> 4;
                return version is 4 or 6 ? ParseError.None : ParseError.BadIpVersion;
            case LinkType.Ipv4:
                version = 4;
                return ParseError.None;
            case LinkType.Ipv6:
                version = 6;
                return ParseError.None;
            case LinkType.Nflog:
                return ParseNflog(f, ref p, out l3, out l3End, out version);
            default:
                return ParseError.NotIp;
        }
    }

    /// <summary>Follows VLAN tags after an EtherType field whose value is <paramref name="type"/> and whose payload starts at <paramref name="next"/>.</summary>
    private static ParseError EtherTypeChain(ReadOnlySpan<byte> f, ushort type, int next, ref ParsedPacket p, out int l3, out int version)
    {
        l3 = 0;
        version = 0;
        for (int tags = 0; type is EtherTypeVlan or EtherTypeQinQ or EtherTypeVlanOld; tags++)
        {
            if (tags == MaxVlanTags)
            {
                p.EtherType = type;
                return ParseError.NotIp;
            }
            if (f.Length - next < 4) return ParseError.TruncatedLinkHeader;
            ushort tci = BinaryPrimitives.ReadUInt16BigEndian(f.Slice(next));
            if (tags == 0) p.VlanId = (short)(tci & 0x0fff);
            type = BinaryPrimitives.ReadUInt16BigEndian(f.Slice(next + 2));
            next += 4;
        }
        p.EtherType = type;
        l3 = next;
        version = type == EtherTypeIpv4 ? 4 : type == EtherTypeIpv6 ? 6 : 0;
        return version == 0 ? ParseError.NotIp : ParseError.None;
    }

    /// <summary>
    /// LINKTYPE_NFLOG: {family, version, res_id BE} then TLVs {u16 length (little-endian, includes the 4-byte TLV header),
    /// u16 type} each padded to 4 bytes. The IP packet is the NFULA_PAYLOAD value; the IP version comes from the family
    /// (AF_INET / AF_INET6) or, for other families, from NFULA_PACKET_HDR's hw_protocol.
    /// </summary>
    private static ParseError ParseNflog(ReadOnlySpan<byte> f, ref ParsedPacket p, out int l3, out int l3End, out int version)
    {
        l3 = 0;
        l3End = 0;
        version = 0;
        if (f.Length < NflogHeaderLength) return ParseError.TruncatedLinkHeader;
        byte family = f[0];
        int hwProtocol = -1;
        int payload = -1, payloadLength = 0;
        int off = NflogHeaderLength;
        while (f.Length - off >= 4)
        {
            int tlvLength = BinaryPrimitives.ReadUInt16LittleEndian(f.Slice(off));
            int type = BinaryPrimitives.ReadUInt16LittleEndian(f.Slice(off + 2)) & NlaTypeMask;
            if (tlvLength < 4 || tlvLength > f.Length - off) break; // malformed: keep what was found so far
            int value = off + 4, valueLength = tlvLength - 4;
            switch (type)
            {
                case NfulaPacketHdr when valueLength >= 3:
                    hwProtocol = BinaryPrimitives.ReadUInt16BigEndian(f.Slice(value));
                    p.NflogHook = f[value + 2];
                    break;
                case NfulaPrefix:
                    int nul = f.Slice(value, valueLength).IndexOf((byte)0);
                    p.NflogPrefixOffset = value;
                    p.NflogPrefixLength = nul < 0 ? valueLength : nul;
                    break;
                case NfulaPayload:
                    payload = value;
                    payloadLength = valueLength;
                    break;
            }
            int padded = (tlvLength + 3) & ~3;
            off += Math.Min(padded, f.Length - off);
        }

        if (hwProtocol >= 0) p.EtherType = (ushort)hwProtocol;
        version = family == AfInet ? 4
            : family == AfInet6 ? 6
            : hwProtocol == EtherTypeIpv4 ? 4
            : hwProtocol == EtherTypeIpv6 ? 6
            : 0;
        if (version == 0) return ParseError.NotIp;
        if (payload < 0) return ParseError.TruncatedLinkHeader;
        l3 = payload;
        l3End = payload + payloadLength;
        return ParseError.None;
    }

    // ---------------------------------------------------------------- IP

    private static ParseError ParseIpv4(ReadOnlySpan<byte> f, int l3, int end, bool embedded, ref ParsedPacket p)
    {
        p.L3Offset = l3;
        int available = end - l3;
        if (available < 20) return ParseError.TruncatedIpHeader;
        ReadOnlySpan<byte> h = f.Slice(l3, 20);
        if (h[0] >> 4 != 4) return ParseError.BadIpVersion;
        int ihl = (h[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > available) return ParseError.BadIpHeaderLength;

        p.IpVersion = 4;
        p.L3HeaderLength = ihl;
        p.Tos = h[1];
        int total = BinaryPrimitives.ReadUInt16BigEndian(h.Slice(2));
        ushort frag = BinaryPrimitives.ReadUInt16BigEndian(h.Slice(6));
        p.Ttl = h[8];
        p.Protocol = h[9];
        p.Src = IpAddr.ReadV4(h.Slice(12));
        p.Dst = IpAddr.ReadV4(h.Slice(16));
        p.FragmentOffset = (frag & 0x1fff) * 8;
        p.MoreFragments = (frag & 0x2000) != 0;
        p.IsFragment = p.MoreFragments || p.FragmentOffset != 0;
        p.L3DeclaredLength = total;

        int length;
        if (total >= ihl && total <= available) length = total;
        else if (embedded) length = available;
        else return ParseError.BadIpTotalLength;
        p.L3Length = length;
        return ParseL4(f, l3 + ihl, l3 + length, embedded, ref p);
    }

    private static ParseError ParseIpv6(ReadOnlySpan<byte> f, int l3, int end, bool embedded, ref ParsedPacket p)
    {
        p.L3Offset = l3;
        int available = end - l3;
        if (available < 40) return ParseError.TruncatedIpHeader;
        ReadOnlySpan<byte> h = f.Slice(l3, 40);
        if (h[0] >> 4 != 6) return ParseError.BadIpVersion;

        p.IpVersion = 6;
        p.Tos = (byte)(BinaryPrimitives.ReadUInt16BigEndian(h) >> 4);
        int declared = 40 + BinaryPrimitives.ReadUInt16BigEndian(h.Slice(4));
        byte next = h[6];
        p.Ttl = h[7];
        p.Src = IpAddr.ReadV6(h.Slice(8));
        p.Dst = IpAddr.ReadV6(h.Slice(24));
        p.L3DeclaredLength = declared;
        p.L3HeaderLength = 40;

        int length;
        if (declared <= available) length = declared;
        else if (embedded) length = available;
        else return ParseError.BadIpTotalLength;
        p.L3Length = length;
        int packetEnd = l3 + length;

        int off = l3 + 40;
        for (int count = 0; IsExtensionHeader(next); count++)
        {
            if (count == MaxExtensionHeaders || packetEnd - off < 8) return ParseError.BadExtensionHeaders;
            byte current = next;
            next = f[off];
            int headerLength;
            if (current == IpProto.Ipv6Frag)
            {
                headerLength = 8;
                ushort fo = BinaryPrimitives.ReadUInt16BigEndian(f.Slice(off + 2));
                p.FragmentOffset = fo & 0xfff8;
                p.MoreFragments = (fo & 1) != 0;
                p.IsFragment = p.FragmentOffset != 0 || p.MoreFragments; // an atomic fragment (offset 0, M 0) is not one
            }
            else if (current == IpProto.Ah) headerLength = (f[off + 1] + 2) * 4;
            else headerLength = (f[off + 1] + 1) * 8;
            if (headerLength > packetEnd - off) return ParseError.BadExtensionHeaders;
            off += headerLength;
            p.L3HeaderLength = off - l3;
            if (p.FragmentOffset != 0) break; // what follows a non-first fragment header is data, not headers
        }
        p.Protocol = next;
        if (next == IpProto.Ipv6NoNext && p.FragmentOffset == 0)
        {
            p.L4Offset = p.PayloadOffset = off;
            return ParseError.None;
        }
        return ParseL4(f, off, packetEnd, embedded, ref p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsExtensionHeader(byte next) =>
        next is IpProto.HopOpts or IpProto.Ipv6Route or IpProto.Ipv6Frag or IpProto.Ipv6DstOpts or IpProto.Ah;

    // ---------------------------------------------------------------- L4

    private static ParseError ParseL4(ReadOnlySpan<byte> f, int l4, int end, bool embedded, ref ParsedPacket p)
    {
        int length = end - l4;
        p.L4Offset = l4;
        p.L4Length = length;
        // No header known (generic protocols, non-first fragments): everything after L3 is payload.
        p.PayloadOffset = l4;
        p.PayloadLength = length;
        if (p.FragmentOffset != 0) return embedded ? ParseError.TruncatedL4Header : ParseError.None;

        ReadOnlySpan<byte> s = f.Slice(l4, length);
        switch (p.Protocol)
        {
            case IpProto.Tcp:
                return embedded ? Ports(s, 4, 20, ref p) : ParseTcp(s, ref p);
            case IpProto.Udp:
            case IpProto.UdpLite:
                return Ports(s, embedded ? 4 : 8, 8, ref p);
            case IpProto.Sctp:
                return Ports(s, embedded ? 4 : 12, 12, ref p);
            case IpProto.Dccp:
                return embedded ? Ports(s, 4, 12, ref p) : ParseDccp(s, ref p);
            case IpProto.Icmp:
            case IpProto.Icmpv6:
                return ParseIcmp(s, embedded, ref p);
            default:
                return ParseError.None;
        }
    }

    /// <summary>Reads the two ports; needs <paramref name="required"/> bytes; the payload starts after <paramref name="headerLength"/> (clipped).</summary>
    private static ParseError Ports(ReadOnlySpan<byte> s, int required, int headerLength, ref ParsedPacket p)
    {
        if (s.Length >= 4)
        {
            p.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(s);
            p.DstPort = BinaryPrimitives.ReadUInt16BigEndian(s.Slice(2));
        }
        if (s.Length < required) return ParseError.TruncatedL4Header;
        if (p.Protocol == IpProto.Tcp && s.Length >= 8) p.Seq = BinaryPrimitives.ReadUInt32BigEndian(s.Slice(4));
        SetPayload(Math.Min(headerLength, s.Length), ref p);
        return ParseError.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetPayload(int headerLength, ref ParsedPacket p)
    {
        p.PayloadOffset = p.L4Offset + headerLength;
        p.PayloadLength = p.L4Length - headerLength;
    }

    private static ParseError ParseTcp(ReadOnlySpan<byte> s, ref ParsedPacket p)
    {
        if (s.Length < 20) return Ports(s, 20, 20, ref p);
        p.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(s);
        p.DstPort = BinaryPrimitives.ReadUInt16BigEndian(s.Slice(2));
        p.Seq = BinaryPrimitives.ReadUInt32BigEndian(s.Slice(4));
        p.Ack = BinaryPrimitives.ReadUInt32BigEndian(s.Slice(8));
        p.TcpFlagBits = s[13];
        p.Window = BinaryPrimitives.ReadUInt16BigEndian(s.Slice(14));
        int headerLength = (s[12] >> 4) * 4;
        if (headerLength < 20 || headerLength > s.Length) return ParseError.TruncatedL4Header;
        p.TcpHeaderLength = headerLength;
        SetPayload(headerLength, ref p);
        ParseTcpOptions(s.Slice(20, headerLength - 20), p.L4Offset + 20, ref p);
        return ParseError.None;
    }

    /// <summary>Like the kernel's tcp_options/tcp_sack: a malformed option length ends option parsing silently.</summary>
    private static void ParseTcpOptions(ReadOnlySpan<byte> o, int baseOffset, ref ParsedPacket p)
    {
        int i = 0;
        while (i < o.Length)
        {
            byte kind = o[i];
            if (kind == 0) return;
            if (kind == 1)
            {
                i++;
                continue;
            }
            if (o.Length - i < 2) return;
            int size = o[i + 1];
            if (size < 2 || size > o.Length - i) return;
            switch (kind)
            {
                case 2 when size == 4:
                    p.Mss = BinaryPrimitives.ReadUInt16BigEndian(o.Slice(i + 2));
                    break;
                case 3 when size == 3:
                    // Raw value; sbyte cannot hold 128..255, which saturate (the tracker caps at 14 anyway).
                    p.WindowScale = (sbyte)Math.Min(o[i + 2], (byte)sbyte.MaxValue);
                    break;
                case 4 when size == 2:
                    p.SackPermitted = true;
                    break;
                case 5 when size >= 10 && (size - 2) % 8 == 0 && p.SackBlockCount == 0:
                    p.SackBlocksOffset = baseOffset + i + 2;
                    p.SackBlockCount = (size - 2) / 8;
                    break;
                case 8 when size == 10:
                    p.HasTimestamp = true;
                    p.TsVal = BinaryPrimitives.ReadUInt32BigEndian(o.Slice(i + 2));
                    p.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(o.Slice(i + 6));
                    break;
            }
            i += size;
        }
    }

    private static ParseError ParseDccp(ReadOnlySpan<byte> s, ref ParsedPacket p)
    {
        if (s.Length < 12) return Ports(s, 12, 12, ref p);
        Ports(s, 12, 12, ref p);
        int headerLength = s[4] * 4;
        if (headerLength < 12 || headerLength > s.Length) return ParseError.TruncatedL4Header;
        SetPayload(headerLength, ref p);
        return ParseError.None;
    }

    private static ParseError ParseIcmp(ReadOnlySpan<byte> s, bool embedded, ref ParsedPacket p)
    {
        if (s.Length < 8) return ParseError.TruncatedL4Header;
        p.IcmpType = s[0];
        p.IcmpCode = s[1];
        p.IcmpId = BinaryPrimitives.ReadUInt16BigEndian(s.Slice(4));
        SetPayload(8, ref p);
        if (!embedded && s.Length > 8 && IsIcmpErrorType(p.Protocol, p.IpVersion, p.IcmpType))
            p.InnerL3Offset = p.L4Offset + 8;
        return ParseError.None;
    }
}
