using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Firewall.Core.Tests.Packets;

/// <summary>An IPv6 extension header for <see cref="FrameBuilder.Ipv6"/>: its type and complete bytes
/// (byte 0, the next-header field, is filled in by the builder).</summary>
public readonly record struct Ipv6Ext(byte Type, byte[] Bytes);

/// <summary>
/// Builds test frames byte by byte: L4 segments, IPv4/IPv6 packets (with correct header and L4 checksums),
/// and link headers (Ethernet with VLAN tags, Linux SLL/SLL2, NFLOG). Composable:
/// <c>Ethernet(Ipv4("198.18.0.1", "198.18.0.2", 6, Tcp(1000, 80)))</c>.
/// Checksums are computed here independently of Firewall.Core's <c>Checksum</c> class.
/// </summary>
public static class FrameBuilder
{
    public const byte ProtoIcmp = 1, ProtoTcp = 6, ProtoUdp = 17, ProtoGre = 47, ProtoIcmpv6 = 58, ProtoSctp = 132, ProtoUdpLite = 136, ProtoDccp = 33;

    /// <summary>Test addresses (198.18.0.0/15 and 2001:db8::/32 only).</summary>
    public const string A4 = "198.18.0.1", B4 = "198.18.0.2", C4 = "198.18.0.3", A6 = "2001:db8::1", B6 = "2001:db8::2", C6 = "2001:db8::3";

    public static readonly byte[] MacA = [0x02, 0, 0, 0, 0, 0x0a];
    public static readonly byte[] MacB = [0x02, 0, 0, 0, 0, 0x0b];

    // ------------------------------------------------------------ link layer

    /// <summary>Ethernet II around <paramref name="payload"/>; the EtherType comes from the IP version nibble
    /// (0x0800 / 0x86DD) unless given. Tags are (TPID, VLAN id), outermost first.</summary>
    public static byte[] Ethernet(byte[] payload, ushort etherType = 0, params (ushort Tpid, ushort Vid)[] tags)
    {
        if (etherType == 0) etherType = EtherTypeOf(payload);
        var b = new byte[14 + 4 * tags.Length + payload.Length];
        MacB.CopyTo(b, 0);
        MacA.CopyTo(b, 6);
        int off = 12;
        foreach (var (tpid, vid) in tags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(off), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(off + 2), vid);
            off += 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(off), etherType);
        payload.CopyTo(b, off + 2);
        return b;
    }

    /// <summary>Ethernet with 802.1Q tags of the given VLAN ids (outermost first).</summary>
    public static byte[] EthernetVlan(byte[] payload, params ushort[] vlanIds) =>
        Ethernet(payload, 0, vlanIds.Select(v => ((ushort)0x8100, v)).ToArray());

    /// <summary>Linux cooked capture v1 (LINKTYPE_LINUX_SLL): 16-byte header, protocol at offset 14.</summary>
    public static byte[] Sll(byte[] payload, ushort protocol = 0)
    {
        var b = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), 0); // packet type: to us
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), 1); // ARPHRD_ETHER
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), 6);
        MacA.CopyTo(b, 6);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(14), protocol == 0 ? EtherTypeOf(payload) : protocol);
        payload.CopyTo(b, 16);
        return b;
    }

    /// <summary>Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): 20-byte header, protocol at offset 0.</summary>
    public static byte[] Sll2(byte[] payload, ushort protocol = 0, uint ifIndex = 2)
    {
        var b = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), protocol == 0 ? EtherTypeOf(payload) : protocol);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), ifIndex);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(8), 1); // ARPHRD_ETHER
        b[10] = 0; // packet type
        b[11] = 6;
        MacA.CopyTo(b, 12);
        payload.CopyTo(b, 20);
        return b;
    }

    /// <summary>One NFLOG TLV (length little-endian, includes the 4-byte TLV header; padded to 4 bytes).</summary>
    public static byte[] NflogTlv(ushort type, byte[] value)
    {
        int len = 4 + value.Length;
        var b = new byte[(len + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0), (ushort)len);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), type);
        value.CopyTo(b, 4);
        return b;
    }

    /// <summary>LINKTYPE_NFLOG: header {family, version 0, res_id BE} then NFULA_PACKET_HDR (when hook ≥ 0),
    /// NFULA_PREFIX (when given, NUL-terminated) and NFULA_PAYLOAD. Family 0 means "from the IP version nibble".</summary>
    public static byte[] Nflog(byte[] ipPacket, string? prefix = null, int hook = 1, byte family = 0, ushort resId = 5)
    {
        if (family == 0) family = (byte)(ipPacket.Length > 0 && ipPacket[0] >> 4 == 6 ? 10 : 2);
        var parts = new List<byte[]> { new byte[] { family, 0, (byte)(resId >> 8), (byte)resId } };
        if (hook >= 0)
        {
            var hdr = new byte[4];
            BinaryPrimitives.WriteUInt16BigEndian(hdr, EtherTypeOf(ipPacket));
            hdr[2] = (byte)hook;
            parts.Add(NflogTlv(1, hdr));
        }
        if (prefix != null) parts.Add(NflogTlv(10, [.. Encoding.ASCII.GetBytes(prefix), 0]));
        parts.Add(NflogTlv(9, ipPacket));
        return Concat(parts.ToArray());
    }

    /// <summary>An ARP request body (for non-IP frames: wrap with <c>Ethernet(Arp(), 0x0806)</c>).</summary>
    public static byte[] Arp()
    {
        var b = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), 1);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), 0x0800);
        b[4] = 6; b[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), 1);
        MacA.CopyTo(b, 8);
        IPAddress.Parse("198.18.0.1").GetAddressBytes().CopyTo(b, 14);
        IPAddress.Parse("198.18.0.2").GetAddressBytes().CopyTo(b, 24);
        return b;
    }

    // ------------------------------------------------------------ IP

    /// <summary>
    /// An IPv4 packet. Fills the header checksum and, for an unfragmented TCP/UDP/UDP-Lite/ICMP packet, the L4
    /// checksum (unless <paramref name="fillL4Checksum"/> is false; a UDP checksum computing to 0 is stored as 0xffff).
    /// <paramref name="fragmentOffset"/> is in bytes (a multiple of 8). <paramref name="options"/> must be a multiple of 4 bytes.
    /// </summary>
    public static byte[] Ipv4(string src, string dst, byte protocol, byte[] l4, byte ttl = 64, byte tos = 0, ushort id = 1,
        int fragmentOffset = 0, bool moreFragments = false, bool dontFragment = false, byte[]? options = null, bool fillL4Checksum = true)
    {
        options ??= [];
        if (options.Length % 4 != 0) throw new ArgumentException("IPv4 options must be a multiple of 4 bytes", nameof(options));
        int ihl = 20 + options.Length;
        var b = new byte[ihl + l4.Length];
        b[0] = (byte)(0x40 | (ihl / 4));
        b[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), id);
        ushort frag = (ushort)((fragmentOffset / 8) | (moreFragments ? 0x2000 : 0) | (dontFragment ? 0x4000 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), frag);
        b[8] = ttl;
        b[9] = protocol;
        V4(src).CopyTo(b, 12);
        V4(dst).CopyTo(b, 16);
        options.CopyTo(b, 20);
        l4.CopyTo(b, ihl);
        if (fillL4Checksum && fragmentOffset == 0 && !moreFragments)
            FillL4Checksum(b.AsSpan(ihl), protocol, PseudoSum(b.AsSpan(12, 4), b.AsSpan(16, 4), protocol, l4.Length), protocol == ProtoIcmp);
        FillIpv4HeaderChecksum(b);
        return b;
    }

    /// <summary>Recomputes the IPv4 header checksum of <paramref name="ipv4"/> in place (after a test edited the header).</summary>
    public static void FillIpv4HeaderChecksum(Span<byte> ipv4)
    {
        int ihl = (ipv4[0] & 0x0f) * 4;
        ipv4[10] = ipv4[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ipv4.Slice(10), Finish(Sum(ipv4.Slice(0, ihl), 0)));
    }

    /// <summary>
    /// An IPv6 packet with the extension headers <paramref name="ext"/> in order (their next-header bytes are chained
    /// here). Fills the TCP/UDP/UDP-Lite/ICMPv6 checksum of an unfragmented packet unless <paramref name="fillL4Checksum"/> is false.
    /// </summary>
    public static byte[] Ipv6(string src, string dst, byte protocol, byte[] l4, byte hopLimit = 64, byte trafficClass = 0,
        bool fillL4Checksum = true, params Ipv6Ext[] ext)
    {
        int extLength = ext.Sum(e => e.Bytes.Length);
        var b = new byte[40 + extLength + l4.Length];
        BinaryPrimitives.WriteUInt32BigEndian(b, 0x60000000u | ((uint)trafficClass << 20) | 0x12345);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)(extLength + l4.Length));
        b[6] = ext.Length > 0 ? ext[0].Type : protocol;
        b[7] = hopLimit;
        V6(src).CopyTo(b, 8);
        V6(dst).CopyTo(b, 24);
        int off = 40;
        bool fragment = false;
        for (int i = 0; i < ext.Length; i++)
        {
            ext[i].Bytes.CopyTo(b, off);
            b[off] = i + 1 < ext.Length ? ext[i + 1].Type : protocol;
            if (ext[i].Type == 44 && (BinaryPrimitives.ReadUInt16BigEndian(ext[i].Bytes.AsSpan(2)) & 0xfff9) != 0) fragment = true;
            off += ext[i].Bytes.Length;
        }
        l4.CopyTo(b, off);
        if (fillL4Checksum && !fragment)
            FillL4Checksum(b.AsSpan(off), protocol, PseudoSum(b.AsSpan(8, 16), b.AsSpan(24, 16), protocol, l4.Length), false);
        return b;
    }

    /// <summary>Hop-by-hop options header (type 0) of <paramref name="length8"/> × 8 bytes, filled with PadN.</summary>
    public static Ipv6Ext HopByHop(int length8 = 1) => new(0, OptionsHeader(length8));

    /// <summary>Destination options header (type 60) of <paramref name="length8"/> × 8 bytes, filled with PadN.</summary>
    public static Ipv6Ext DestinationOptions(int length8 = 1) => new(60, OptionsHeader(length8));

    /// <summary>Routing header (type 43), routing type 0 with no addresses and no segments left (so every node
    /// skips it and the pseudo-header keeps the IPv6 destination): 8 bytes.</summary>
    public static Ipv6Ext Routing() => new(43, [0, 0, 0, 0, 0, 0, 0, 0]);

    /// <summary>Fragment header (type 44); <paramref name="offset"/> in bytes (a multiple of 8).</summary>
    public static Ipv6Ext Fragment(int offset, bool more, uint id = 0x1234)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)((offset & 0xfff8) | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), id);
        return new(44, b);
    }

    /// <summary>Authentication header (type 51): 12 fixed bytes plus <paramref name="icvLength"/> (a multiple of 4) of ICV.</summary>
    public static Ipv6Ext Ah(int icvLength = 12)
    {
        var b = new byte[12 + icvLength];
        b[1] = (byte)(b.Length / 4 - 2);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 0x100); // SPI
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 1); // sequence
        return new(51, b);
    }

    private static byte[] OptionsHeader(int length8)
    {
        var b = new byte[length8 * 8];
        b[1] = (byte)(length8 - 1);
        b[2] = 1; // PadN
        b[3] = (byte)(b.Length - 4);
        return b;
    }

    // ------------------------------------------------------------ L4

    /// <summary>A TCP segment (checksum 0: the IP builder fills it). <paramref name="options"/> is padded with EOL to 4 bytes.</summary>
    public static byte[] Tcp(ushort srcPort, ushort dstPort, uint seq = 1000, uint ack = 0, byte flags = 0x02, ushort window = 64240,
        byte[]? options = null, byte[]? payload = null, ushort urgent = 0)
    {
        options ??= [];
        payload ??= [];
        int optLength = (options.Length + 3) & ~3;
        var b = new byte[20 + optLength + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), dstPort);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), ack);
        b[12] = (byte)(((20 + optLength) / 4) << 4);
        b[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(14), window);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(18), urgent);
        options.CopyTo(b, 20);
        payload.CopyTo(b, 20 + optLength);
        return b;
    }

    /// <summary>TCP option encodings, concatenated with <see cref="Concat"/> for <see cref="Tcp"/>'s options.</summary>
    public static class TcpOption
    {
        public static byte[] End() => [0];
        public static byte[] Nop() => [1];
        public static byte[] Mss(ushort mss) => [2, 4, (byte)(mss >> 8), (byte)mss];
        public static byte[] WindowScale(byte shift) => [3, 3, shift];
        public static byte[] SackPermitted() => [4, 2];

        public static byte[] Sack(params (uint Left, uint Right)[] blocks)
        {
            var b = new byte[2 + 8 * blocks.Length];
            b[0] = 5;
            b[1] = (byte)b.Length;
            for (int i = 0; i < blocks.Length; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2 + 8 * i), blocks[i].Left);
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6 + 8 * i), blocks[i].Right);
            }
            return b;
        }

        public static byte[] Timestamp(uint tsVal, uint tsEcr)
        {
            var b = new byte[10];
            b[0] = 8;
            b[1] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(2), tsVal);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(6), tsEcr);
            return b;
        }

        /// <summary>Any option with a raw kind and length byte (for malformed lengths) followed by <paramref name="data"/>.</summary>
        public static byte[] Raw(byte kind, byte length, params byte[] data) => [kind, length, .. data];
    }

    /// <summary>A UDP datagram (length field set, checksum 0: the IP builder fills it).</summary>
    public static byte[] Udp(ushort srcPort, ushort dstPort, byte[]? payload = null)
    {
        payload ??= [];
        var b = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)b.Length);
        payload.CopyTo(b, 8);
        return b;
    }

    /// <summary>An ICMP or ICMPv6 message: type, code, checksum 0 (the IP builder fills it), id, sequence, payload
    /// (for errors pass id = seq = 0, or the MTU in seq, and the quoted packet as payload).</summary>
    public static byte[] Icmp(byte type, byte code, ushort id = 0, ushort seq = 0, byte[]? payload = null)
    {
        payload ??= [];
        var b = new byte[8 + payload.Length];
        b[0] = type;
        b[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), seq);
        payload.CopyTo(b, 8);
        return b;
    }

    /// <summary>An SCTP common header (12 bytes, CRC32c not computed) followed by <paramref name="chunks"/>.</summary>
    public static byte[] Sctp(ushort srcPort, ushort dstPort, uint verificationTag = 0, byte[]? chunks = null)
    {
        chunks ??= [];
        var b = new byte[12 + chunks.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), dstPort);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), verificationTag);
        chunks.CopyTo(b, 12);
        return b;
    }

    /// <summary>A DCCP generic header with extended sequence numbers (16 bytes, data offset 4 words), type Request; checksum not computed.</summary>
    public static byte[] Dccp(ushort srcPort, ushort dstPort, byte[]? payload = null)
    {
        payload ??= [];
        var b = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(0), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), dstPort);
        b[4] = 4; // data offset in 32-bit words
        b[8] = 0x01; // type Request (0) << 1 | X
        payload.CopyTo(b, 16);
        return b;
    }

    // ------------------------------------------------------------ helpers

    public static byte[] Concat(params byte[][] parts)
    {
        var b = new byte[parts.Sum(p => p.Length)];
        int off = 0;
        foreach (var p in parts)
        {
            p.CopyTo(b, off);
            off += p.Length;
        }
        return b;
    }

    public static byte[] V4(string a)
    {
        var ip = IPAddress.Parse(a);
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) throw new ArgumentException($"not IPv4: {a}");
        return ip.GetAddressBytes();
    }

    public static byte[] V6(string a)
    {
        var ip = IPAddress.Parse(a);
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) throw new ArgumentException($"not IPv6: {a}");
        return ip.GetAddressBytes();
    }

    /// <summary>RFC 1071 sum of 16-bit big-endian words, folded to 16 bits (not inverted).</summary>
    public static ushort Sum(ReadOnlySpan<byte> data, uint start)
    {
        uint sum = start;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (uint)(data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0u);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    public static ushort Finish(ushort sum) => (ushort)~sum;

    private static uint PseudoSum(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte protocol, int length) =>
        (uint)Sum(src, 0) + Sum(dst, 0) + protocol + (uint)(length >> 16) + (uint)(length & 0xffff);

    private static void FillL4Checksum(Span<byte> l4, byte protocol, uint pseudo, bool icmpV4)
    {
        int at = protocol switch
        {
            ProtoTcp => 16,
            ProtoUdp or ProtoUdpLite => 6,
            ProtoIcmp or ProtoIcmpv6 => 2,
            _ => -1,
        };
        if (at < 0 || l4.Length < at + 2) return;
        l4[at] = l4[at + 1] = 0;
        ushort c = Finish(Sum(l4, icmpV4 ? 0 : pseudo));
        if (c == 0 && protocol == ProtoUdp) c = 0xffff;
        BinaryPrimitives.WriteUInt16BigEndian(l4.Slice(at), c);
    }

    private static ushort EtherTypeOf(byte[] ipPacket) =>
        ipPacket.Length > 0 && ipPacket[0] >> 4 == 6 ? (ushort)0x86DD : (ushort)0x0800;
}
