using System.Buffers.Binary;
using Firewall.Core.Packets;

namespace Firewall.Cli.Bench;

/// <summary>
/// Synthetic Ethernet frames for benchmarks (setup code, not the packet path): IPv4+TCP, IPv4+UDP and IPv6+UDP with
/// correct IPv4 header and L4 checksums. Addresses stay inside the benchmark ranges 198.18.0.0/15 and 2001:db8::/32.
/// Also compiled into tests/Firewall.Benchmarks (linked file), so both measure the same frames.
/// </summary>
internal static class BenchFrames
{
    public const int EthernetLength = 14;
    /// <summary>Offset of the TCP sequence number in an Ethernet+IPv4 (no options) frame.</summary>
    public const int Ipv4TcpSeqOffset = EthernetLength + 20 + 4;
    /// <summary>Offset of the TCP acknowledgement number in an Ethernet+IPv4 (no options) frame.</summary>
    public const int Ipv4TcpAckOffset = Ipv4TcpSeqOffset + 4;
    /// <summary>Largest frame the writers produce for the payload sizes used here (room for a fixed stride).</summary>
    public const int MaxFrame = 256;

    public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;

    /// <summary>198.18.0.0 + n (n &lt; 2^17 stays inside 198.18.0.0/15).</summary>
    public static uint V4(int n) => 0xC6120000u + (uint)(n & 0x1FFFF);

    /// <summary>A unique IPv4 UDP/TCP client endpoint for flow <paramref name="i"/> (up to 2^17 × 64,512 flows).</summary>
    public static (uint Addr, ushort Port) Client(int i) => (V4(i & 0x1FFFF), (ushort)(1024 + (i >> 17)));

    /// <summary>Ethernet + IPv4 + TCP (header with an optional window-scale option) + zero payload bytes. Returns the frame length.</summary>
    public static int Ipv4Tcp(Span<byte> f, uint src, uint dst, ushort sport, ushort dport, uint seq, uint ack, byte flags,
                              ushort window, int payload, int windowScale = -1)
    {
        int tcpHeader = windowScale >= 0 ? 24 : 20;
        int ipLength = 20 + tcpHeader + payload;
        f = f.Slice(0, EthernetLength + ipLength);
        f.Clear();
        Ethernet(f, PacketParser.EtherTypeIpv4);
        Span<byte> ip = f.Slice(EthernetLength);
        Ipv4Header(ip, src, dst, IpProto.Tcp, ipLength);
        Span<byte> tcp = ip.Slice(20);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.Slice(8), ack);
        tcp[12] = (byte)(tcpHeader / 4 << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.Slice(14), window);
        if (windowScale >= 0)
        {
            tcp[20] = 3; tcp[21] = 3; tcp[22] = (byte)windowScale; tcp[23] = 1; // WS, NOP
        }
        FillL4Checksum(ip, tcp, 16, v6: false);
        return f.Length;
    }

    /// <summary>Ethernet + IPv4 + UDP with <paramref name="payload"/> zero bytes. Returns the frame length.</summary>
    public static int Ipv4Udp(Span<byte> f, uint src, uint dst, ushort sport, ushort dport, int payload)
    {
        int ipLength = 20 + 8 + payload;
        f = f.Slice(0, EthernetLength + ipLength);
        f.Clear();
        Ethernet(f, PacketParser.EtherTypeIpv4);
        Span<byte> ip = f.Slice(EthernetLength);
        Ipv4Header(ip, src, dst, IpProto.Udp, ipLength);
        UdpHeader(ip.Slice(20), sport, dport, 8 + payload);
        FillL4Checksum(ip, ip.Slice(20), 6, v6: false);
        return f.Length;
    }

    /// <summary>Ethernet + IPv6 (2001:db8::/32) + UDP with <paramref name="payload"/> zero bytes. Returns the frame length.</summary>
    public static int Ipv6Udp(Span<byte> f, ulong srcLo, ulong dstLo, ushort sport, ushort dport, int payload)
    {
        const ulong Prefix = 0x20010DB8_00000000UL;
        int l4 = 8 + payload;
        f = f.Slice(0, EthernetLength + 40 + l4);
        f.Clear();
        Ethernet(f, PacketParser.EtherTypeIpv6);
        Span<byte> ip = f.Slice(EthernetLength);
        BinaryPrimitives.WriteUInt32BigEndian(ip, 0x60000000u);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), (ushort)l4);
        ip[6] = IpProto.Udp;
        ip[7] = 64;
        BinaryPrimitives.WriteUInt64BigEndian(ip.Slice(8), Prefix);
        BinaryPrimitives.WriteUInt64BigEndian(ip.Slice(16), srcLo);
        BinaryPrimitives.WriteUInt64BigEndian(ip.Slice(24), Prefix);
        BinaryPrimitives.WriteUInt64BigEndian(ip.Slice(32), dstLo);
        UdpHeader(ip.Slice(40), sport, dport, l4);
        FillL4Checksum(ip, ip.Slice(40), 6, v6: true);
        return f.Length;
    }

    /// <summary>Rewrites the TCP sequence and acknowledgement numbers of an Ethernet+IPv4 frame (the checksum goes stale:
    /// use only with checksum verification off, as for locally generated packets).</summary>
    public static void PatchSeqAck(Span<byte> frame, uint seq, uint ack)
    {
        BinaryPrimitives.WriteUInt32BigEndian(frame.Slice(Ipv4TcpSeqOffset), seq);
        BinaryPrimitives.WriteUInt32BigEndian(frame.Slice(Ipv4TcpAckOffset), ack);
    }

    /// <summary>Rewrites the IPv4 source address and the L4 source port of an Ethernet+IPv4 (no options) frame
    /// (checksums go stale: use only with checksum verification off).</summary>
    public static void PatchSource(Span<byte> frame, uint src, ushort sport)
    {
        BinaryPrimitives.WriteUInt32BigEndian(frame.Slice(EthernetLength + 12), src);
        BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(EthernetLength + 20), sport);
    }

    private static void Ethernet(Span<byte> f, ushort etherType)
    {
        f[0] = 0x02; f[5] = 0x0b;   // destination 02:00:00:00:00:0b
        f[6] = 0x02; f[11] = 0x0a;  // source 02:00:00:00:00:0a
        BinaryPrimitives.WriteUInt16BigEndian(f.Slice(12), etherType);
    }

    private static void Ipv4Header(Span<byte> ip, uint src, uint dst, byte proto, int totalLength)
    {
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(6), 0x4000); // DF
        ip[8] = 64;
        ip[9] = proto;
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(12), src);
        BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(16), dst);
        BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), Checksum.Finish(Checksum.Sum(ip.Slice(0, 20))));
    }

    private static void UdpHeader(Span<byte> udp, ushort sport, ushort dport, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(udp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(udp.Slice(4), (ushort)length);
    }

    private static void FillL4Checksum(Span<byte> ip, Span<byte> l4, int at, bool v6)
    {
        IpAddr s = v6 ? IpAddr.ReadV6(ip.Slice(8)) : IpAddr.ReadV4(ip.Slice(12));
        IpAddr d = v6 ? IpAddr.ReadV6(ip.Slice(24)) : IpAddr.ReadV4(ip.Slice(16));
        byte proto = v6 ? ip[6] : ip[9];
        uint sum = Checksum.PseudoHeader(in s, in d, v6, proto, l4.Length);
        ushort c = Checksum.Finish(Checksum.Sum(l4, sum));
        if (c == 0 && proto == IpProto.Udp) c = 0xffff;
        BinaryPrimitives.WriteUInt16BigEndian(l4.Slice(at), c);
    }
}
