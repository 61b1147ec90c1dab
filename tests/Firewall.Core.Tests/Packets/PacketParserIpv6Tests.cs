using System.Buffers.Binary;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

public class PacketParserIpv6Tests
{
    [Fact]
    public void Ipv6_HeaderFields_AreDecoded()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(5000, 53, new byte[10]), hopLimit: 9, trafficClass: 0xb8);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal(FrameBuilder.V6(A6), Bytes(p.Src));
        Assert.Equal(FrameBuilder.V6(B6), Bytes(p.Dst));
        Assert.Equal(9, p.Ttl);
        Assert.Equal(0xb8, p.Tos);
        Assert.Equal(ProtoUdp, p.Protocol);
        Assert.Equal(40, p.L3HeaderLength);
        Assert.Equal(58, p.L3Length);
        Assert.Equal(58, p.L3DeclaredLength);
        Assert.Equal(18, p.L4Length);
        Assert.True(p.IsV6);
        Assert.False(p.IsFragment);
    }

    [Fact]
    public void Ipv6_ShorterThan40Bytes_IsTruncatedIpHeader()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(1, 2))[..39];
        Assert.Equal(ParseError.TruncatedIpHeader, PacketParser.Parse(f, LinkType.Ipv6, out _));
    }

    [Fact]
    public void Ipv6_PayloadLengthBeyondCaptured_IsBadIpTotalLength()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(1, 2, new byte[20]));
        Assert.Equal(ParseError.BadIpTotalLength, PacketParser.Parse(f.AsSpan(0, f.Length - 1), LinkType.Ipv6, out _));
    }

    [Fact]
    public void Ipv6_TrailingBytesBeyondPayloadLength_AreIgnored()
    {
        var f = Concat(Ipv6(A6, B6, ProtoUdp, Udp(1, 2, [7])), new byte[5]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(49, p.L3Length);
        Assert.Equal(9, p.L4Length);
        Assert.Equal(new byte[] { 7 }, p.Payload.ToArray());
    }

    [Fact]
    public void Ipv6_HopByHopRoutingDestinationOptions_AreSkipped()
    {
        var f = Ipv6(A6, B6, ProtoTcp, Tcp(1000, 443), ext: [HopByHop(), Routing(), DestinationOptions(2)]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(ProtoTcp, p.Protocol);
        Assert.Equal(40 + 8 + 8 + 16, p.L3HeaderLength);
        Assert.Equal(p.L3HeaderLength, p.L4Offset);
        Assert.Equal((ushort)443, p.DstPort);
        Assert.Equal(20, p.TcpHeaderLength);
    }

    [Fact]
    public void Ipv6_AuthenticationHeader_LengthInFourByteUnits()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(1, 2), ext: [Ah(icvLength: 12)]); // 24-byte AH: hdr[1] = 4
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(40 + 24, p.L3HeaderLength);
        Assert.Equal(ProtoUdp, p.Protocol);
        Assert.Equal((ushort)2, p.DstPort);
    }

    [Fact]
    public void Ipv6_FirstFragment_ParsesL4AndIsFragment()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(3, 4, new byte[24]), ext: [Fragment(0, more: true)]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.True(p.IsFragment);
        Assert.True(p.MoreFragments);
        Assert.Equal(0, p.FragmentOffset);
        Assert.Equal(48, p.L3HeaderLength);
        Assert.Equal((ushort)3, p.SrcPort);
    }

    [Fact]
    public void Ipv6_NonFirstFragment_LeavesL4FieldsZero()
    {
        var data = Udp(3, 4, new byte[8]);
        var f = Ipv6(A6, B6, ProtoUdp, data, ext: [HopByHop(), Fragment(1232, more: false)]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.True(p.IsFragment);
        Assert.False(p.MoreFragments);
        Assert.Equal(1232, p.FragmentOffset);
        Assert.Equal(ProtoUdp, p.Protocol);
        Assert.Equal(56, p.L3HeaderLength);
        Assert.Equal(56, p.L4Offset);
        Assert.Equal(data.Length, p.L4Length);
        Assert.Equal(0, p.SrcPort);
        Assert.Equal(0, p.DstPort);
    }

    [Fact]
    public void Ipv6_NonFirstFragment_DataAfterFragmentHeaderIsNotWalked()
    {
        // The fragment's data starts with bytes that would be a malformed hop-by-hop header.
        var data = new byte[] { 0, 255, 0, 0, 0, 0, 0, 0 };
        var f = Ipv6(A6, B6, IpProto.HopOpts, data, ext: [Fragment(8, more: false)]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(IpProto.HopOpts, p.Protocol);
        Assert.Equal(48, p.L4Offset);
    }

    [Fact]
    public void Ipv6_AtomicFragment_IsNotFragment()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(3, 4), ext: [Fragment(0, more: false)]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.False(p.IsFragment);
        Assert.Equal((ushort)4, p.DstPort);
    }

    [Fact]
    public void Ipv6_NoNextHeader_IsProtocol59WithEmptyL4()
    {
        var f = Ipv6(A6, B6, IpProto.Ipv6NoNext, [], ext: [DestinationOptions()]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(IpProto.Ipv6NoNext, p.Protocol);
        Assert.Equal(48, p.L3HeaderLength);
        Assert.Equal(48, p.L4Offset);
        Assert.Equal(0, p.L4Length);
        Assert.Equal(0, p.PayloadLength);
    }

    [Fact]
    public void Ipv6_MaxExtensionHeaders_AreAccepted()
    {
        var ext = Enumerable.Range(0, PacketParser.MaxExtensionHeaders).Select(_ => DestinationOptions()).ToArray();
        var f = Ipv6(A6, B6, ProtoUdp, Udp(1, 2), ext: ext);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(40 + 8 * PacketParser.MaxExtensionHeaders, p.L3HeaderLength);
    }

    [Fact]
    public void Ipv6_TooManyExtensionHeaders_IsBadExtensionHeaders()
    {
        var ext = Enumerable.Range(0, PacketParser.MaxExtensionHeaders + 1).Select(_ => DestinationOptions()).ToArray();
        var f = Ipv6(A6, B6, ProtoUdp, Udp(1, 2), ext: ext);
        Assert.Equal(ParseError.BadExtensionHeaders, PacketParser.Parse(f, LinkType.Ipv6, out _));
    }

    [Fact]
    public void Ipv6_SelfReferencingHopByHopChain_StopsAsBadExtensionHeaders()
    {
        // 400 zero bytes: each 8-byte block is a hop-by-hop header whose next header is hop-by-hop again.
        var f = Ipv6(A6, B6, IpProto.HopOpts, new byte[400]);
        Assert.Equal(ParseError.BadExtensionHeaders, PacketParser.Parse(f, LinkType.Ipv6, out _));
    }

    [Fact]
    public void Ipv6_ExtensionHeaderLengthBeyondPacket_IsBadExtensionHeaders()
    {
        var hbh = HopByHop();
        var f = Ipv6(A6, B6, ProtoUdp, Udp(1, 2), ext: [hbh]);
        f[41] = 10; // 88 bytes claimed, 16 present
        Assert.Equal(ParseError.BadExtensionHeaders, PacketParser.Parse(f, LinkType.Ipv6, out _));
    }

    [Fact]
    public void Ipv6_ExtensionHeaderCutShort_IsBadExtensionHeaders()
    {
        var f = Ipv6(A6, B6, IpProto.HopOpts, [ProtoUdp, 0, 1, 2]); // 4 of the 8 bytes
        Assert.Equal(ParseError.BadExtensionHeaders, PacketParser.Parse(f, LinkType.Ipv6, out _));
    }

    [Fact]
    public void Ipv6_EspIsTerminal()
    {
        var f = Ipv6(A6, B6, IpProto.Esp, new byte[16]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(IpProto.Esp, p.Protocol);
        Assert.Equal(40, p.L3HeaderLength);
        Assert.Equal(16, p.L4Length);
    }

    [Fact]
    public void Ipv6_ZeroPayloadLengthWithTcp_IsTruncatedL4Header()
    {
        var f = Ipv6(A6, B6, ProtoTcp, Tcp(1, 2));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(4), 0);
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.Parse(f, LinkType.Ipv6, out var p));
        Assert.Equal(40, p.L3Length);
    }

    internal static byte[] Bytes(IpAddr a)
    {
        var b = new byte[16];
        a.WriteV6(b);
        return b;
    }
}
