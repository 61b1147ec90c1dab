using System.Buffers.Binary;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

public class PacketParserIpv4Tests
{
    [Fact]
    public void Ipv4_HeaderFields_AreDecoded()
    {
        var f = Ipv4(A4, B4, ProtoUdp, Udp(5000, 53, new byte[10]), ttl: 17, tos: 0xb8, dontFragment: true);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.Equal(FrameBuilder.V4(A4), Bytes(p.Src));
        Assert.Equal(FrameBuilder.V4(B4), Bytes(p.Dst));
        Assert.Equal(17, p.Ttl);
        Assert.Equal(0xb8, p.Tos);
        Assert.Equal(ProtoUdp, p.Protocol);
        Assert.Equal(20, p.L3HeaderLength);
        Assert.Equal(38, p.L3Length);
        Assert.Equal(38, p.L3DeclaredLength);
        Assert.Equal(20, p.L4Offset);
        Assert.Equal(18, p.L4Length);
        Assert.False(p.IsV6);
        Assert.False(p.IsFragment);
        Assert.False(p.ChecksumChecked);
    }

    [Fact]
    public void Ipv4_Options_AreSkipped()
    {
        byte[] options = [0x94, 0x04, 0, 0, 1, 1, 1, 0]; // router alert, NOP, NOP, NOP, EOL
        var f = Ethernet(Ipv4(A4, B4, ProtoTcp, Tcp(1234, 80), options: options));
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(28, p.L3HeaderLength);
        Assert.Equal(14 + 28, p.L4Offset);
        Assert.Equal((ushort)1234, p.SrcPort);
        Assert.Equal((ushort)80, p.DstPort);
    }

    [Fact]
    public void Ipv4_IhlBelow5_IsBadIpHeaderLength()
    {
        var ip = Ipv4(A4, B4, ProtoUdp, Udp(1, 2));
        ip[0] = 0x44;
        Assert.Equal(ParseError.BadIpHeaderLength, PacketParser.Parse(ip, LinkType.RawIp, out _));
    }

    [Fact]
    public void Ipv4_IhlBeyondCapturedBytes_IsBadIpHeaderLength()
    {
        var ip = Ipv4(A4, B4, ProtoUdp, Udp(1, 2)); // 28 bytes
        ip[0] = 0x48; // 32-byte header
        Assert.Equal(ParseError.BadIpHeaderLength, PacketParser.Parse(ip, LinkType.RawIp, out _));
    }

    [Fact]
    public void Ipv4_ShorterThan20Bytes_IsTruncatedIpHeader()
    {
        var f = Ethernet(Ipv4(A4, B4, ProtoUdp, Udp(1, 2)))[..(14 + 19)];
        Assert.Equal(ParseError.TruncatedIpHeader, PacketParser.Parse(f, LinkType.Ethernet, out _));
    }

    [Fact]
    public void Ipv4_TotalLengthBeyondCaptured_IsBadIpTotalLength()
    {
        var f = Ethernet(Ipv4(A4, B4, ProtoUdp, Udp(1, 2, new byte[100])));
        Assert.Equal(ParseError.BadIpTotalLength, PacketParser.Parse(f.AsSpan(0, f.Length - 1), LinkType.Ethernet, out _));
    }

    [Fact]
    public void Ipv4_TotalLengthBelowHeaderLength_IsBadIpTotalLength()
    {
        var ip = Ipv4(A4, B4, ProtoUdp, Udp(1, 2));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), 19);
        Assert.Equal(ParseError.BadIpTotalLength, PacketParser.Parse(ip, LinkType.RawIp, out _));
    }

    [Fact]
    public void Ipv4_EthernetPaddingBeyondTotalLength_IsIgnored()
    {
        var ip = Ipv4(A4, B4, ProtoUdp, Udp(1, 2, [0xaa, 0xbb])); // 30 bytes
        var f = Concat(Ethernet(ip), new byte[16]); // padded to the 60-byte minimum
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.Ethernet, out var p));
        Assert.Equal(30, p.L3Length);
        Assert.Equal(10, p.L4Length);
        Assert.Equal(2, p.PayloadLength);
        Assert.Equal(new byte[] { 0xaa, 0xbb }, p.Payload.ToArray());
    }

    [Fact]
    public void Ipv4_FirstFragment_ParsesL4AndIsFragment()
    {
        var f = Ipv4(A4, B4, ProtoUdp, Udp(7, 9, new byte[32]), moreFragments: true);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.True(p.IsFragment);
        Assert.True(p.MoreFragments);
        Assert.Equal(0, p.FragmentOffset);
        Assert.Equal((ushort)7, p.SrcPort);
    }

    [Fact]
    public void Ipv4_NonFirstFragment_LeavesL4FieldsZero()
    {
        var data = Tcp(7, 9); // looks like a TCP header but is data of a later fragment
        var f = Ipv4(A4, B4, ProtoTcp, data, fragmentOffset: 1480, moreFragments: true);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.True(p.IsFragment);
        Assert.Equal(1480, p.FragmentOffset);
        Assert.Equal(ProtoTcp, p.Protocol);
        Assert.Equal(20, p.L4Offset);
        Assert.Equal(data.Length, p.L4Length);
        Assert.Equal(0, p.SrcPort);
        Assert.Equal(0, p.DstPort);
        Assert.Equal(0, p.TcpFlagBits);
        Assert.Equal(0, p.TcpHeaderLength);
    }

    [Fact]
    public void Ipv4_LastFragment_IsFragmentWithoutMoreFragments()
    {
        var f = Ipv4(A4, B4, ProtoUdp, new byte[16], fragmentOffset: 8);
        Assert.Equal(ParseError.None, PacketParser.Parse(f, LinkType.RawIp, out var p));
        Assert.True(p.IsFragment);
        Assert.False(p.MoreFragments);
        Assert.Equal(8, p.FragmentOffset);
    }

    [Fact]
    public void Ipv4_DontFragment_IsNotFragment()
    {
        PacketParser.Parse(Ipv4(A4, B4, ProtoUdp, Udp(1, 2), dontFragment: true), LinkType.RawIp, out var p);
        Assert.False(p.IsFragment);
        Assert.False(p.MoreFragments);
    }

    [Fact]
    public void Ipv4_UnknownProtocol_HasZeroPortsAndWholeL4AsPayload()
    {
        var body = new byte[] { 0, 0, 0x08, 0x00, 1, 2, 3, 4 };
        PacketParser.Parse(Ipv4(A4, B4, ProtoGre, body), LinkType.RawIp, out var p);
        Assert.Equal(ProtoGre, p.Protocol);
        Assert.Equal(0, p.SrcPort);
        Assert.Equal(0, p.DstPort);
        Assert.Equal(p.L4Offset, p.PayloadOffset);
        Assert.Equal(body, p.Payload.ToArray());
    }

    internal static byte[] Bytes(IpAddr a)
    {
        var b = new byte[4];
        a.WriteV4(b);
        return b;
    }
}
