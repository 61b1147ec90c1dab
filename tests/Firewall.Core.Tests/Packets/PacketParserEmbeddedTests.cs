using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

public class PacketParserEmbeddedTests
{
    /// <summary>An ICMP error from <see cref="FrameBuilder.C4"/> quoting the first <paramref name="quoteBytes"/> of <paramref name="original"/>.</summary>
    private static byte[] IcmpErrorV4(byte[] original, int quoteBytes, byte type = 3, byte code = 3) =>
        Ethernet(Ipv4(C4, A4, ProtoIcmp, Icmp(type, code, payload: original[..quoteBytes])));

    private static byte[] IcmpErrorV6(byte[] original, int quoteBytes, byte type = 1) =>
        Ethernet(Ipv6(C6, A6, ProtoIcmpv6, Icmp(type, 4, payload: original[..quoteBytes])));

    [Fact]
    public void EmbeddedIpv4Udp_TruncatedQuote_KeepsDeclaredLength()
    {
        var original = Ipv4(A4, B4, ProtoUdp, Udp(5000, 6000, new byte[100]));
        var f = IcmpErrorV4(original, 28);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.Equal(4, inner.IpVersion);
        Assert.Equal(outer.InnerL3Offset, inner.L3Offset);
        Assert.Equal(128, inner.L3DeclaredLength);
        Assert.Equal(28, inner.L3Length);
        Assert.Equal(ProtoUdp, inner.Protocol);
        Assert.Equal((ushort)5000, inner.SrcPort);
        Assert.Equal((ushort)6000, inner.DstPort);
        Assert.Equal(FrameBuilder.V4(A4), PacketParserIpv4Tests.Bytes(inner.Src));
        Assert.Equal(FrameBuilder.V4(B4), PacketParserIpv4Tests.Bytes(inner.Dst));
    }

    [Fact]
    public void EmbeddedTcp_FourBytesOfL4_AreEnough()
    {
        var original = Ipv4(A4, B4, ProtoTcp, Tcp(1234, 80, seq: 99));
        var f = IcmpErrorV4(original, 24);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.Equal((ushort)1234, inner.SrcPort);
        Assert.Equal((ushort)80, inner.DstPort);
        Assert.Equal(4, inner.L4Length);
    }

    [Fact]
    public void EmbeddedTcp_EightBytes_AlsoGiveSequenceNumber()
    {
        var f = IcmpErrorV4(Ipv4(A4, B4, ProtoTcp, Tcp(1234, 80, seq: 99)), 28);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner);
        Assert.Equal(99u, inner.Seq);
    }

    [Fact]
    public void EmbeddedTcp_FewerThanFourBytesOfL4_IsTruncatedL4Header()
    {
        var f = IcmpErrorV4(Ipv4(A4, B4, ProtoTcp, Tcp(1234, 80)), 23);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out _));
    }

    [Fact]
    public void EmbeddedIcmpEcho_EightBytes_GiveTypeCodeAndId()
    {
        var f = IcmpErrorV4(Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0, id: 0x77, payload: new byte[56])), 28, type: 11, code: 0);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.Equal(8, inner.IcmpType);
        Assert.Equal((ushort)0x77, inner.IcmpId);
        Assert.Equal(0, inner.InnerL3Offset);
    }

    [Fact]
    public void EmbeddedIcmp_FewerThanEightBytes_IsTruncatedL4Header()
    {
        var f = IcmpErrorV4(Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0, id: 0x77)), 26);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out _));
    }

    [Fact]
    public void EmbeddedGenericProtocol_NeedsNoL4Bytes()
    {
        var f = IcmpErrorV4(Ipv4(A4, B4, ProtoGre, new byte[8]), 20);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.Equal(ProtoGre, inner.Protocol);
        Assert.Equal(0, inner.L4Length);
    }

    [Fact]
    public void EmbeddedNonFirstFragment_Fails()
    {
        var f = IcmpErrorV4(Ipv4(A4, B4, ProtoUdp, new byte[16], fragmentOffset: 64), 28);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.True(inner.IsFragment);
        Assert.Equal(0, inner.SrcPort);
    }

    [Fact]
    public void EmbeddedIhlBeyondQuote_IsBadIpHeaderLength()
    {
        var original = Ipv4(A4, B4, ProtoUdp, Udp(1, 2), options: new byte[8]);
        var f = IcmpErrorV4(original, 24);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.BadIpHeaderLength, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out _));
    }

    [Fact]
    public void EmbeddedIpv6Udp_TruncatedQuote()
    {
        var original = Ipv6(A6, B6, ProtoUdp, Udp(5000, 6000, new byte[1400]));
        var f = IcmpErrorV6(original, 48);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var outer));
        Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.Equal(6, inner.IpVersion);
        Assert.Equal(40 + 8 + 1400, inner.L3DeclaredLength);
        Assert.Equal(48, inner.L3Length);
        Assert.Equal((ushort)5000, inner.SrcPort);
        Assert.Equal(FrameBuilder.V6(B6), PacketParserIpv6Tests.Bytes(inner.Dst));
    }

    [Fact]
    public void EmbeddedIpv6_ExtensionHeadersAreWalked()
    {
        var original = Ipv6(A6, B6, ProtoTcp, Tcp(7, 8), ext: [HopByHop(), DestinationOptions()]);
        var f = IcmpErrorV6(original, 40 + 16 + 8, type: 2);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out var inner));
        Assert.Equal(ProtoTcp, inner.Protocol);
        Assert.Equal(56, inner.L3HeaderLength);
        Assert.Equal((ushort)8, inner.DstPort);
    }

    [Fact]
    public void EmbeddedIpv6NonFirstFragment_Fails()
    {
        var original = Ipv6(A6, B6, ProtoUdp, new byte[16], ext: [Fragment(16, more: true)]);
        var f = IcmpErrorV6(original, 64);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out _));
    }

    [Fact]
    public void EmbeddedFromOuter_IsBoundedByOuterIpLength()
    {
        // The quote holds only the IP header; Ethernet padding follows the outer packet.
        var original = Ipv4(A4, B4, ProtoUdp, Udp(5000, 6000));
        var f = Concat(IcmpErrorV4(original, 20), new byte[20]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var outer));
        Assert.Equal(ParseError.TruncatedL4Header, PacketParser.ParseEmbedded(in outer, out _));
    }

    [Fact]
    public void EmbeddedFromOuterWithoutQuote_IsTruncatedIpHeader()
    {
        var f = Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0));
        PacketParser.Parse(f, LinkType.RawIp, out var outer);
        Assert.Equal(ParseError.TruncatedIpHeader, PacketParser.ParseEmbedded(in outer, out _));
    }

    [Fact]
    public void EmbeddedOffsetOutsideFrame_IsTruncatedIpHeader()
    {
        var f = Ipv4(A4, B4, ProtoIcmp, Icmp(3, 0, payload: new byte[4]));
        Assert.Equal(ParseError.TruncatedIpHeader, PacketParser.ParseEmbedded(f, f.Length, out _));
        Assert.Equal(ParseError.TruncatedIpHeader, PacketParser.ParseEmbedded(f, -5, out _));
    }

    [Fact]
    public void EmbeddedBadVersion_IsBadIpVersion()
    {
        var f = IcmpErrorV4(Concat([0x75], new byte[27]), 28);
        PacketParser.Parse(f, LinkType.Ethernet, out var outer);
        Assert.Equal(ParseError.BadIpVersion, PacketParser.ParseEmbedded(f, outer.InnerL3Offset, out _));
    }
}
