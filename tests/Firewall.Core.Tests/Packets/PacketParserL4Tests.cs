using System.Buffers.Binary;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

public class PacketParserL4Tests
{
    private static ParsedPacket ParseTcp(byte[]? options, out ParseError e, byte[]? payload = null)
    {
        var f = Ethernet(Ipv4(A4, B4, ProtoTcp, Tcp(40000, 80, options: options, payload: payload)));
        e = PacketParser.Parse(f, LinkType.Ethernet, out var p);
        return p;
    }

    // ------------------------------------------------------------ TCP

    [Fact]
    public void Tcp_HeaderFields_AreDecoded()
    {
        var f = Ipv4(A4, B4, ProtoTcp, Tcp(40000, 80, seq: 0xdeadbeef, ack: 0x01020304, flags: TcpFlags.Ack | TcpFlags.Psh,
            window: 1234, payload: [9, 8, 7]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal((ushort)40000, p.SrcPort);
        Assert.Equal((ushort)80, p.DstPort);
        Assert.Equal(0xdeadbeefu, p.Seq);
        Assert.Equal(0x01020304u, p.Ack);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, p.TcpFlagBits);
        Assert.Equal((ushort)1234, p.Window);
        Assert.Equal(20, p.TcpHeaderLength);
        Assert.Equal(40, p.PayloadOffset);
        Assert.Equal(new byte[] { 9, 8, 7 }, p.Payload.ToArray());
    }

    [Fact]
    public void Tcp_WithoutOptions_OptionFieldsAreAbsent()
    {
        var p = ParseTcp(null, out _);
        Assert.Equal(-1, p.WindowScale);
        Assert.Equal(0, p.Mss);
        Assert.False(p.SackPermitted);
        Assert.False(p.HasTimestamp);
        Assert.Equal(0, p.SackBlockCount);
    }

    [Fact]
    public void Tcp_SynOptions_AreAllDecoded()
    {
        var opts = Concat(TcpOption.Mss(1460), TcpOption.SackPermitted(), TcpOption.Timestamp(111, 222), TcpOption.Nop(), TcpOption.WindowScale(7));
        var p = ParseTcp(opts, out var e, payload: [1]);
        Assert.Equal(ParseError.None, e);
        Assert.Equal((ushort)1460, p.Mss);
        Assert.True(p.SackPermitted);
        Assert.True(p.HasTimestamp);
        Assert.Equal(111u, p.TsVal);
        Assert.Equal(222u, p.TsEcr);
        Assert.Equal(7, p.WindowScale);
        Assert.Equal(40, p.TcpHeaderLength);
        Assert.Equal(14 + 20 + 40, p.PayloadOffset);
        Assert.Equal(1, p.PayloadLength);
    }

    [Fact]
    public void Tcp_WindowScaleAbove14_IsNotCapped()
    {
        Assert.Equal(15, ParseTcp(TcpOption.WindowScale(15), out _).WindowScale);
    }

    [Fact]
    public void Tcp_WindowScaleAbove127_SaturatesAt127()
    {
        Assert.Equal(127, ParseTcp(TcpOption.WindowScale(200), out _).WindowScale);
    }

    [Fact]
    public void Tcp_SackBlocks_OffsetAndCount()
    {
        var opts = Concat(TcpOption.Nop(), TcpOption.Nop(), TcpOption.Sack((100, 200), (300, 400), (500, 600)));
        var f = Ethernet(Ipv4(A4, B4, ProtoTcp, Tcp(1, 2, flags: TcpFlags.Ack, options: opts)));
        PacketParser.Parse(f, LinkType.Ethernet, out var p);
        Assert.Equal(3, p.SackBlockCount);
        Assert.Equal(14 + 20 + 20 + 2 + 2, p.SackBlocksOffset);
        var blocks = f.AsSpan(p.SackBlocksOffset, 8 * p.SackBlockCount);
        Assert.Equal(100u, BinaryPrimitives.ReadUInt32BigEndian(blocks));
        Assert.Equal(200u, BinaryPrimitives.ReadUInt32BigEndian(blocks[4..]));
        Assert.Equal(600u, BinaryPrimitives.ReadUInt32BigEndian(blocks[20..]));
    }

    [Fact]
    public void Tcp_FourSackBlocks_Accepted()
    {
        var opts = TcpOption.Sack((1, 2), (3, 4), (5, 6), (7, 8)); // 34 bytes
        Assert.Equal(4, ParseTcp(opts, out _).SackBlockCount);
    }

    [Fact]
    public void Tcp_SackWithLengthNotBlockMultiple_IsIgnored()
    {
        var opts = Concat(TcpOption.Raw(5, 12, new byte[10]), TcpOption.Mss(1000));
        var p = ParseTcp(opts, out _);
        Assert.Equal(0, p.SackBlockCount);
        Assert.Equal((ushort)1000, p.Mss);
    }

    [Fact]
    public void Tcp_TwoSackOptions_FirstIsReported()
    {
        var opts = Concat(TcpOption.Sack((1, 2)), TcpOption.Sack((3, 4), (5, 6)));
        var p = ParseTcp(opts, out _);
        Assert.Equal(1, p.SackBlockCount);
        Assert.Equal(14 + 20 + 20 + 2, p.SackBlocksOffset);
    }

    [Fact]
    public void Tcp_NopsBeforeOption_AreSkipped()
    {
        Assert.Equal(5, ParseTcp(Concat(TcpOption.Nop(), TcpOption.Nop(), TcpOption.Nop(), TcpOption.WindowScale(5)), out _).WindowScale);
    }

    [Fact]
    public void Tcp_EndOfOptionList_StopsParsing()
    {
        var p = ParseTcp(Concat(TcpOption.End(), TcpOption.Mss(1460)), out var e);
        Assert.Equal(ParseError.None, e);
        Assert.Equal(0, p.Mss);
    }

    [Fact]
    public void Tcp_OptionLengthBelow2_StopsParsingSilently()
    {
        var p = ParseTcp(Concat(TcpOption.Raw(30, 1), TcpOption.Mss(1460)), out var e);
        Assert.Equal(ParseError.None, e);
        Assert.Equal(0, p.Mss);
    }

    [Fact]
    public void Tcp_OptionLengthBeyondHeader_StopsParsingSilently()
    {
        var p = ParseTcp(Concat(TcpOption.WindowScale(3), TcpOption.Raw(2, 40, 5, 0xb4)), out var e);
        Assert.Equal(ParseError.None, e);
        Assert.Equal(3, p.WindowScale);
        Assert.Equal(0, p.Mss);
    }

    [Fact]
    public void Tcp_KnownKindWithWrongLength_IsIgnoredButParsingContinues()
    {
        var p = ParseTcp(Concat(TcpOption.Raw(2, 3, 5), TcpOption.WindowScale(4)), out _);
        Assert.Equal(0, p.Mss);
        Assert.Equal(4, p.WindowScale);
    }

    [Fact]
    public void Tcp_LoneKindByteAtEnd_StopsParsing()
    {
        // 3 option bytes: window scale kind 3 with no room for a length, padded by the builder with EOL.
        var f = Ipv4(A4, B4, ProtoTcp, Tcp(1, 2, options: [1, 1, 1, 3]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal(-1, p.WindowScale);
    }

    [Fact]
    public void Tcp_DataOffsetBelow5_IsTruncatedL4Header()
    {
        var seg = Tcp(1, 2);
        seg[12] = 0x40;
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoTcp, seg), LinkType.RawIp, out _));
    }

    [Fact]
    public void Tcp_DataOffsetBeyondSegment_IsTruncatedL4Header()
    {
        var seg = Tcp(1, 2, payload: new byte[3]);
        seg[12] = 0x60; // 24-byte header, 23 bytes present
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoTcp, seg), LinkType.RawIp, out _));
    }

    [Fact]
    public void Tcp_ShorterThan20Bytes_IsTruncatedL4HeaderWithPortsKept()
    {
        var seg = Tcp(1234, 80)[..12];
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoTcp, seg), LinkType.RawIp, out var p));
        Assert.Equal((ushort)1234, p.SrcPort);
        Assert.Equal((ushort)80, p.DstPort);
        Assert.Equal(4, p.IpVersion);
    }

    [Fact]
    public void Tcp_OverIpv6_Decoded()
    {
        var f = Ipv6(A6, B6, ProtoTcp, Tcp(5, 6, options: TcpOption.Mss(1220)));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal((ushort)1220, p.Mss);
        Assert.Equal(24, p.TcpHeaderLength);
    }

    // ------------------------------------------------------------ UDP, UDP-Lite, SCTP, DCCP

    [Fact]
    public void Udp_PortsAndPayload()
    {
        var f = Ipv4(A4, B4, ProtoUdp, Udp(53, 40001, [1, 2, 3, 4]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal((ushort)53, p.SrcPort);
        Assert.Equal((ushort)40001, p.DstPort);
        Assert.Equal(28, p.PayloadOffset);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, p.Payload.ToArray());
    }

    [Fact]
    public void Udp_ShorterThan8Bytes_IsTruncatedL4Header()
    {
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoUdp, Udp(1, 2)[..7]), LinkType.RawIp, out _));
    }

    [Fact]
    public void UdpLite_Ports()
    {
        var f = Ipv6(A6, B6, ProtoUdpLite, Udp(10, 20, [5]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal((ushort)10, p.SrcPort);
        Assert.Equal((ushort)20, p.DstPort);
        Assert.Equal(1, p.PayloadLength);
    }

    [Fact]
    public void Sctp_PortsAndPayloadAfterCommonHeader()
    {
        var f = Ipv4(A4, B4, ProtoSctp, Sctp(2905, 2906, 7, new byte[16]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal((ushort)2905, p.SrcPort);
        Assert.Equal((ushort)2906, p.DstPort);
        Assert.Equal(32, p.PayloadOffset);
        Assert.Equal(16, p.PayloadLength);
    }

    [Fact]
    public void Sctp_ShorterThanCommonHeader_IsTruncatedL4Header()
    {
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoSctp, Sctp(1, 2)[..11]), LinkType.RawIp, out _));
    }

    [Fact]
    public void Dccp_PortsAndPayloadAfterDataOffset()
    {
        var f = Ipv4(A4, B4, ProtoDccp, Dccp(5001, 5002, [1, 2]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal((ushort)5001, p.SrcPort);
        Assert.Equal((ushort)5002, p.DstPort);
        Assert.Equal(36, p.PayloadOffset);
        Assert.Equal(2, p.PayloadLength);
    }

    [Fact]
    public void Dccp_DataOffsetBeyondPacket_IsTruncatedL4Header()
    {
        var seg = Dccp(1, 2);
        seg[4] = 10;
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoDccp, seg), LinkType.RawIp, out _));
    }

    // ------------------------------------------------------------ ICMP / ICMPv6

    [Fact]
    public void Icmp_EchoRequest_TypeCodeAndId()
    {
        var f = Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0, id: 0x4242, seq: 3, payload: new byte[4]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal(8, p.IcmpType);
        Assert.Equal(0, p.IcmpCode);
        Assert.Equal((ushort)0x4242, p.IcmpId);
        Assert.Equal(0, p.InnerL3Offset);
        Assert.Equal(0, p.SrcPort);
        Assert.Equal(28, p.PayloadOffset);
    }

    [Fact]
    public void Icmp_ShorterThan8Bytes_IsTruncatedL4Header()
    {
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0)[..7]), LinkType.RawIp, out _));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(11)]
    [InlineData(12)]
    public void Icmp_ErrorType_SetsInnerL3Offset(byte type)
    {
        var quoted = Ipv4(B4, A4, ProtoUdp, Udp(5000, 6000));
        var f = Ethernet(Ipv4(B4, A4, ProtoIcmp, Icmp(type, 1, payload: quoted)));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(14 + 20 + 8, p.InnerL3Offset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(9)]
    public void Icmp_NonErrorType_HasNoInnerL3Offset(byte type)
    {
        var f = Ipv4(A4, B4, ProtoIcmp, Icmp(type, 0, payload: new byte[28]));
        PacketParser.Parse(f, LinkType.RawIp, out var p);
        Assert.Equal(0, p.InnerL3Offset);
    }

    [Fact]
    public void Icmp_ErrorWithoutQuotedBytes_HasNoInnerL3Offset()
    {
        PacketParser.Parse(Ipv4(A4, B4, ProtoIcmp, Icmp(3, 3)), LinkType.RawIp, out var p);
        Assert.Equal(0, p.InnerL3Offset);
    }

    [Fact]
    public void Icmpv6_EchoRequest_TypeCodeAndId()
    {
        var f = Ipv6(A6, B6, ProtoIcmpv6, Icmp(128, 0, id: 77, seq: 1));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(128, p.IcmpType);
        Assert.Equal((ushort)77, p.IcmpId);
        Assert.Equal(0, p.InnerL3Offset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(100)]
    public void Icmpv6_TypeBelow128_SetsInnerL3Offset(byte type)
    {
        var quoted = Ipv6(B6, A6, ProtoUdp, Udp(5000, 6000));
        var f = Ipv6(C6, B6, ProtoIcmpv6, Icmp(type, 0, payload: quoted), ext: [HopByHop()]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(40 + 8 + 8, p.InnerL3Offset);
    }

    [Fact]
    public void Icmpv6_Redirect137_LeavesInnerL3OffsetZero()
    {
        var f = Ipv6("fe80::1", B6, ProtoIcmpv6, Icmp(137, 0, payload: new byte[80]), hopLimit: 255);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(137, p.IcmpType);
        Assert.Equal(0, p.InnerL3Offset);
    }

    [Fact]
    public void IcmpProtocolOverIpv6_IsNotTreatedAsError()
    {
        var f = Ipv6(A6, B6, ProtoIcmp, Icmp(3, 0, payload: new byte[40]));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(3, p.IcmpType);
        Assert.Equal(0, p.InnerL3Offset);
    }
}
