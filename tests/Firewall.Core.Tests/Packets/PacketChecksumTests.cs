using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

public class PacketChecksumTests
{
    private static bool L4Ok(byte[] frame, LinkType link)
    {
        Assert.Equal(ParseError.None, PacketParser.Parse(frame, link, out var p));
        return Checksum.VerifyL4(ref p);
    }

    [Fact]
    public void Ipv4HeaderChecksum_Correct_IsOk()
    {
        PacketParser.Parse(Ethernet(Ipv4(A4, B4, ProtoUdp, Udp(1, 2), options: [1, 1, 1, 0])), LinkType.Ethernet, out var p);
        Assert.True(PacketParser.Ipv4HeaderChecksumOk(ref p));
    }

    [Fact]
    public void Ipv4HeaderChecksum_CorruptedHeader_IsNotOk()
    {
        var ip = Ipv4(A4, B4, ProtoUdp, Udp(1, 2));
        ip[8] ^= 1; // TTL changed without updating the checksum
        PacketParser.Parse(ip, LinkType.RawIp, out var p);
        Assert.True(p.Error == ParseError.None);
        Assert.False(PacketParser.Ipv4HeaderChecksumOk(ref p));
    }

    [Fact]
    public void Ipv4HeaderChecksum_ForIpv6_IsOk()
    {
        PacketParser.Parse(Ipv6(A6, B6, ProtoUdp, Udp(1, 2)), LinkType.Ipv6, out var p);
        Assert.True(PacketParser.Ipv4HeaderChecksumOk(ref p));
    }

    [Fact]
    public void Ipv4HeaderChecksum_ForNonIp_IsNotOk()
    {
        PacketParser.Parse(Ethernet(Arp(), 0x0806), LinkType.Ethernet, out var p);
        Assert.False(PacketParser.Ipv4HeaderChecksumOk(ref p));
    }

    [Fact]
    public void Parse_DoesNotVerifyChecksums()
    {
        var ip = Ipv4(A4, B4, ProtoUdp, Udp(1, 2));
        ip[10] ^= 0xff;
        Assert.Equal(ParseError.None, PacketParser.Parse(ip, LinkType.RawIp, out var p));
        Assert.False(p.ChecksumChecked);
        Assert.False(p.ChecksumOk);
    }

    [Fact]
    public void TcpChecksum_Correct_VerifiesV4AndV6()
    {
        Assert.True(L4Ok(Ethernet(Ipv4(A4, B4, ProtoTcp, Tcp(1, 2, payload: [1, 2, 3]))), LinkType.Ethernet));
        Assert.True(L4Ok(Ipv6(A6, B6, ProtoTcp, Tcp(1, 2, payload: [1, 2, 3]), ext: [HopByHop()]), LinkType.Ipv6));
    }

    [Fact]
    public void TcpChecksum_CorruptedPayload_Fails()
    {
        var f = Ethernet(Ipv4(A4, B4, ProtoTcp, Tcp(1, 2, payload: [1, 2, 3])));
        f[^1] ^= 0x40;
        Assert.False(L4Ok(f, LinkType.Ethernet));
    }

    [Fact]
    public void UdpChecksum_CorrectOverIpv6_Verifies()
    {
        Assert.True(L4Ok(Ipv6(A6, B6, ProtoUdp, Udp(53, 5353, [9, 9, 9])), LinkType.Ipv6));
    }

    [Fact]
    public void UdpChecksum_CorruptedOverIpv6_Fails()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(53, 5353, [9, 9, 9]));
        f[^2] ^= 1;
        Assert.False(L4Ok(f, LinkType.Ipv6));
    }

    [Fact]
    public void UdpChecksumZeroOverIpv4_MeansNoneAndIsValid()
    {
        var f = Ipv4(A4, B4, ProtoUdp, Udp(53, 5353, [9, 9, 9]), fillL4Checksum: false);
        Assert.Equal(0, f[26] | f[27]);
        Assert.True(L4Ok(f, LinkType.RawIp));
    }

    [Fact]
    public void UdpChecksumZeroOverIpv6_IsInvalid()
    {
        var f = Ipv6(A6, B6, ProtoUdp, Udp(53, 5353, [9, 9, 9]), fillL4Checksum: false);
        Assert.False(L4Ok(f, LinkType.Ipv6));
    }

    [Fact]
    public void IcmpChecksum_CorrectAndCorrupted()
    {
        var f = Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0, 1, 1, [1, 2, 3, 4, 5]));
        Assert.True(L4Ok(f, LinkType.RawIp));
        f[^1] ^= 2;
        Assert.False(L4Ok(f, LinkType.RawIp));
    }

    [Fact]
    public void Icmpv6Checksum_CoversPseudoHeader()
    {
        var f = Ipv6(A6, B6, ProtoIcmpv6, Icmp(128, 0, 1, 1, [1, 2, 3]));
        Assert.True(L4Ok(f, LinkType.Ipv6));
        f[39] ^= 1; // destination address changed: the pseudo-header sum no longer matches
        Assert.False(L4Ok(f, LinkType.Ipv6));
    }
}
