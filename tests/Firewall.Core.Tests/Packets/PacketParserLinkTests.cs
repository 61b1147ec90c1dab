using System.Text;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

public class PacketParserLinkTests
{
    private static byte[] UdpV4() => Ipv4(A4, B4, ProtoUdp, Udp(1111, 2222, [1, 2, 3]));
    private static byte[] UdpV6() => Ipv6(A6, B6, ProtoUdp, Udp(1111, 2222, [1, 2, 3]));

    [Fact]
    public void Ethernet_Ipv4_DecodesThroughL4()
    {
        var f = Ethernet(UdpV4());
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(ParseError.None, p.Error);
        Assert.Equal(LinkType.Ethernet, p.LinkType);
        Assert.Equal(0x0800, p.EtherType);
        Assert.Equal(-1, p.VlanId);
        Assert.Equal(4, p.IpVersion);
        Assert.Equal(14, p.L3Offset);
        Assert.Equal(34, p.L4Offset);
        Assert.Equal((ushort)1111, p.SrcPort);
        Assert.Equal((ushort)2222, p.DstPort);
        Assert.Equal(-1, p.NflogHook);
    }

    [Fact]
    public void Ethernet_Ipv6_SetsEtherType86DD()
    {
        var f = Ethernet(UdpV6());
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(0x86DD, p.EtherType);
        Assert.Equal(6, p.IpVersion);
        Assert.Equal(14, p.L3Offset);
        Assert.Equal(54, p.L4Offset);
    }

    [Fact]
    public void Ethernet_Vlan8021Q_SetsVlanIdAndSkipsTag()
    {
        var f = EthernetVlan(UdpV4(), 42);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(42, p.VlanId);
        Assert.Equal(0x0800, p.EtherType);
        Assert.Equal(18, p.L3Offset);
        Assert.Equal((ushort)2222, p.DstPort);
    }

    [Fact]
    public void Ethernet_VlanTciPriorityBits_AreNotPartOfVlanId()
    {
        var f = Ethernet(UdpV4(), 0, (0x8100, (ushort)(0xE000 | 0x1000 | 7)));
        PacketParser.Parse(f, LinkType.Ethernet, out var p);
        Assert.Equal(7, p.VlanId);
    }

    [Fact]
    public void Ethernet_QinQ_VlanIdIsOutermost()
    {
        var f = Ethernet(UdpV6(), 0, (0x88A8, 100), (0x8100, 200));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(100, p.VlanId);
        Assert.Equal(0x86DD, p.EtherType);
        Assert.Equal(22, p.L3Offset);
        Assert.Equal((ushort)1111, p.SrcPort);
    }

    [Fact]
    public void Ethernet_Tpid9100_IsFollowedAsVlanTag()
    {
        var f = Ethernet(UdpV4(), 0, (0x9100, 5), (0x8100, 6));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(5, p.VlanId);
        Assert.Equal(22, p.L3Offset);
    }

    [Fact]
    public void Ethernet_MaxVlanTags_AreAllFollowed()
    {
        var tags = Enumerable.Range(1, PacketParser.MaxVlanTags).Select(i => ((ushort)0x8100, (ushort)i)).ToArray();
        var f = Ethernet(UdpV4(), 0, tags);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(14 + 4 * PacketParser.MaxVlanTags, p.L3Offset);
    }

    [Fact]
    public void Ethernet_MoreThanMaxVlanTags_IsNotIp()
    {
        var tags = Enumerable.Range(1, PacketParser.MaxVlanTags + 1).Select(i => ((ushort)0x8100, (ushort)i)).ToArray();
        var f = Ethernet(UdpV4(), 0, tags);
        Assert.Equal(ParseError.NotIp, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(0x8100, p.EtherType);
        Assert.Equal(0, p.IpVersion);
    }

    [Fact]
    public void Ethernet_TruncatedVlanTag_IsTruncatedLinkHeader()
    {
        var f = Ethernet(new byte[2], 0x8100); // TPID then only 2 bytes of tag
        Assert.Equal(ParseError.TruncatedLinkHeader, PacketParser.Parse(f, LinkType.Ethernet, out _));
    }

    [Fact]
    public void Ethernet_ShorterThanHeader_IsTruncatedLinkHeader()
    {
        var f = Ethernet(UdpV4())[..13];
        Assert.Equal(ParseError.TruncatedLinkHeader, PacketParser.Parse(f, LinkType.Ethernet, out _));
    }

    [Fact]
    public void Ethernet_Arp_IsNotIpWithEtherType()
    {
        var f = Ethernet(Arp(), 0x0806);
        Assert.Equal(ParseError.NotIp, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(0x0806, p.EtherType);
        Assert.False(p.IsIp);
    }

    [Fact]
    public void Ethernet_VlanTaggedArp_IsNotIpWithInnerEtherType()
    {
        var f = Ethernet(Arp(), 0x0806, (0x8100, 9));
        Assert.Equal(ParseError.NotIp, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(0x0806, p.EtherType);
        Assert.Equal(9, p.VlanId);
    }

    [Fact]
    public void Ethernet_Ipv4EtherTypeCarryingIpv6_IsBadIpVersion()
    {
        var f = Ethernet(UdpV6(), 0x0800);
        Assert.Equal(ParseError.BadIpVersion, PacketParser.Parse(f, LinkType.Ethernet, out _));
    }

    [Fact]
    public void RawIp_Version4_ParsesAsIpv4()
    {
        Assert.Equal(ParseError.None, PacketParser.Parse(UdpV4(), LinkType.RawIp, out var p));
        Assert.Equal(4, p.IpVersion);
        Assert.Equal(0, p.L3Offset);
        Assert.Equal(0, p.EtherType);
        Assert.Equal(-1, p.VlanId);
    }

    [Fact]
    public void RawIp_Version6_ParsesAsIpv6()
    {
        Assert.Equal(ParseError.None, PacketParser.Parse(UdpV6(), LinkType.RawIp, out var p));
        Assert.Equal(6, p.IpVersion);
        Assert.Equal(40, p.L4Offset);
    }

    [Fact]
    public void RawIp_OtherVersion_IsBadIpVersion()
    {
        var f = UdpV4();
        f[0] = 0x55;
        Assert.Equal(ParseError.BadIpVersion, PacketParser.Parse(f, LinkType.RawIp, out _));
    }

    [Fact]
    public void RawIp_EmptyFrame_IsTruncatedIpHeader()
    {
        Assert.Equal(ParseError.TruncatedIpHeader, PacketParser.Parse([], LinkType.RawIp, out _));
    }

    [Fact]
    public void Ipv4Link_ParsesIpv4()
    {
        Assert.Equal(ParseError.None, PacketParser.Parse(UdpV4(), LinkType.Ipv4, out var p));
        Assert.Equal(4, p.IpVersion);
        Assert.Equal((ushort)2222, p.DstPort);
    }

    [Fact]
    public void Ipv4Link_CarryingIpv6_IsBadIpVersion()
    {
        Assert.Equal(ParseError.BadIpVersion, PacketParser.Parse(UdpV6(), LinkType.Ipv4, out _));
    }

    [Fact]
    public void Ipv6Link_ParsesIpv6()
    {
        Assert.Equal(ParseError.None, PacketParser.Parse(UdpV6(), LinkType.Ipv6, out var p));
        Assert.Equal(6, p.IpVersion);
        Assert.Equal((ushort)2222, p.DstPort);
    }

    [Fact]
    public void Ipv6Link_CarryingIpv4_IsBadIpVersion()
    {
        var f = Concat(UdpV4(), new byte[40]); // long enough for an IPv6 header
        Assert.Equal(ParseError.BadIpVersion, PacketParser.Parse(f, LinkType.Ipv6, out _));
    }

    [Fact]
    public void Sll_Ipv4_ProtocolAtOffset14()
    {
        var f = Sll(UdpV4());
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.LinuxSll, out var p));
        Assert.Equal(0x0800, p.EtherType);
        Assert.Equal(16, p.L3Offset);
        Assert.Equal((ushort)1111, p.SrcPort);
    }

    [Fact]
    public void Sll_VlanTag_IsFollowed()
    {
        var inner = Concat([0x00, 0x0c, 0x86, 0xDD], UdpV6()); // TCI 12, then IPv6
        var f = Sll(inner, 0x8100);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.LinuxSll, out var p));
        Assert.Equal(12, p.VlanId);
        Assert.Equal(20, p.L3Offset);
        Assert.Equal(6, p.IpVersion);
    }

    [Fact]
    public void Sll_ShorterThanHeader_IsTruncatedLinkHeader()
    {
        Assert.Equal(ParseError.TruncatedLinkHeader, PacketParser.Parse(Sll(UdpV4())[..15], LinkType.LinuxSll, out _));
    }

    [Fact]
    public void Sll2_Ipv6_ProtocolAtOffset0()
    {
        var f = Sll2(UdpV6());
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.LinuxSll2, out var p));
        Assert.Equal(0x86DD, p.EtherType);
        Assert.Equal(20, p.L3Offset);
        Assert.Equal((ushort)2222, p.DstPort);
    }

    [Fact]
    public void Sll2_Arp_IsNotIp()
    {
        Assert.Equal(ParseError.NotIp, PacketParser.Parse(Sll2(Arp(), 0x0806), LinkType.LinuxSll2, out var p));
        Assert.Equal(0x0806, p.EtherType);
    }

    [Fact]
    public void Sll2_ShorterThanHeader_IsTruncatedLinkHeader()
    {
        Assert.Equal(ParseError.TruncatedLinkHeader, PacketParser.Parse(Sll2(UdpV4())[..19], LinkType.LinuxSll2, out _));
    }

    [Fact]
    public void Nflog_Ipv4_PayloadPrefixAndHook()
    {
        var ip = UdpV4();
        var f = Nflog(ip, prefix: "fw-drop ", hook: 3);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Nflog, out var p));
        Assert.Equal(4, p.IpVersion);
        Assert.Equal(0x0800, p.EtherType);
        Assert.Equal(3, p.NflogHook);
        Assert.Equal("fw-drop ", Encoding.ASCII.GetString(f.AsSpan(p.NflogPrefixOffset, p.NflogPrefixLength)));
        Assert.True(f.AsSpan(p.L3Offset, p.L3Length).SequenceEqual(ip));
        Assert.Equal((ushort)2222, p.DstPort);
    }

    [Fact]
    public void Nflog_Ipv6_UsesFamily()
    {
        var f = Nflog(UdpV6(), hook: -1);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Nflog, out var p));
        Assert.Equal(6, p.IpVersion);
        Assert.Equal((ushort)1111, p.SrcPort);
    }

    [Fact]
    public void Nflog_WithoutPacketHeader_HookIsMinusOne()
    {
        PacketParser.Parse(Nflog(UdpV4(), hook: -1), LinkType.Nflog, out var p);
        Assert.Equal(-1, p.NflogHook);
    }

    [Fact]
    public void Nflog_WithoutPrefix_PrefixLengthIsZero()
    {
        PacketParser.Parse(Nflog(UdpV4()), LinkType.Nflog, out var p);
        Assert.Equal(0, p.NflogPrefixLength);
    }

    [Fact]
    public void Nflog_PayloadBeforeOtherTlvs_IpPacketIsBoundedByTlv()
    {
        var ip = UdpV4();
        ip[3] += 4; // total length claims 4 bytes more than the payload TLV holds
        var f = Concat([2, 0, 0, 1], NflogTlv(9, ip), NflogTlv(10, [(byte)'x', 0, 0, 0, 0, 0]));
        Assert.Equal(ParseError.BadIpTotalLength, PacketParser.Parse(f, LinkType.Nflog, out _));
    }

    [Fact]
    public void Nflog_TlvsAfterPayload_AreStillRead()
    {
        var f = Concat([2, 0, 0, 1], NflogTlv(9, UdpV4()), NflogTlv(10, "late\0"u8.ToArray()));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Nflog, out var p));
        Assert.Equal("late", Encoding.ASCII.GetString(f.AsSpan(p.NflogPrefixOffset, p.NflogPrefixLength)));
    }

    [Fact]
    public void Nflog_NoPayloadTlv_IsTruncatedLinkHeader()
    {
        var f = Concat([2, 0, 0, 1], NflogTlv(10, "p\0"u8.ToArray()));
        Assert.Equal(ParseError.TruncatedLinkHeader, PacketParser.Parse(f, LinkType.Nflog, out _));
    }

    [Fact]
    public void Nflog_MalformedTlvLengthAfterPayload_KeepsPayload()
    {
        var f = Concat([2, 0, 0, 1], NflogTlv(9, UdpV4()), [0xff, 0x7f, 10, 0]);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Nflog, out var p));
        Assert.Equal((ushort)2222, p.DstPort);
    }

    [Fact]
    public void Nflog_BridgeFamilyArp_IsNotIpWithHwProtocol()
    {
        var hdr = new byte[] { 0x08, 0x06, 1, 0 };
        var f = Concat([7, 0, 0, 1], NflogTlv(1, hdr), NflogTlv(9, Arp()));
        Assert.Equal(ParseError.NotIp, PacketParser.Parse(f, LinkType.Nflog, out var p));
        Assert.Equal(0x0806, p.EtherType);
    }

    [Fact]
    public void Nflog_ShorterThanHeader_IsTruncatedLinkHeader()
    {
        Assert.Equal(ParseError.TruncatedLinkHeader, PacketParser.Parse(new byte[] { 2, 0, 0 }, LinkType.Nflog, out _));
    }

    [Fact]
    public void UnknownLinkType_IsNotIp()
    {
        Assert.Equal(ParseError.NotIp, PacketParser.Parse(UdpV4(), (LinkType)147, out var p));
        Assert.Equal(0, p.IpVersion);
    }
}
