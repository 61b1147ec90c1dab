using Firewall.Core.Packets;
using Firewall.Core.Rules;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

/// <summary>The answers REJECT sends (nf_send_reset / nf_send_unreach rules), checked by parsing them back.</summary>
public class RejectBuilderTests
{
    private static ParsedPacket Answer(byte[] frame, LinkType link, RejectKind kind, out byte[] bytes)
    {
        PacketParser.Parse(frame, link, out var p);
        var buffer = new byte[RejectBuilder.MaxAnswerLength];
        int n = RejectBuilder.Build(ref p, kind, buffer);
        bytes = buffer[..n];
        PacketParser.Parse(bytes, link, out var a);
        return a;
    }

    private static int Length(byte[] frame, LinkType link, RejectKind kind)
    {
        PacketParser.Parse(frame, link, out var p);
        return RejectBuilder.Build(ref p, kind, new byte[RejectBuilder.MaxAnswerLength]);
    }

    [Fact]
    public void ResetForSyn_AcksTheSyn_FromTheDestination()
    {
        var a = Answer(Ipv4(A4, B4, ProtoTcp, Tcp(40000, 23, seq: 1000, flags: 0x02)), LinkType.RawIp, RejectKind.TcpReset, out _);
        Assert.Equal(ParseError.None, a.Error);
        Assert.Equal(B4, a.Src.ToString(false));
        Assert.Equal(A4, a.Dst.ToString(false));
        Assert.Equal((ushort)23, a.SrcPort);
        Assert.Equal((ushort)40000, a.DstPort);
        Assert.Equal(0x14, a.TcpFlagBits); // RST|ACK
        Assert.Equal(0u, a.Seq);
        Assert.Equal(1001u, a.Ack);       // SYN counts one
        Assert.True(Checksum.VerifyL4(ref a));
        Assert.True(PacketParser.Ipv4HeaderChecksumOk(ref a));
    }

    [Fact]
    public void ResetForAck_TakesItsSequenceFromTheAck()
    {
        var a = Answer(Ipv6(A6, B6, ProtoTcp, Tcp(40000, 23, seq: 5, ack: 7777, flags: 0x10)), LinkType.RawIp, RejectKind.TcpReset, out _);
        Assert.Equal(0x04, a.TcpFlagBits); // RST only
        Assert.Equal(7777u, a.Seq);
        Assert.Equal(B6, a.Src.ToString(true));
        Assert.Equal(A6, a.Dst.ToString(true));
        Assert.True(Checksum.VerifyL4(ref a));
    }

    [Fact]
    public void ResetForData_AcksThePayloadAndFin()
    {
        var a = Answer(Ipv4(A4, B4, ProtoTcp, [.. Tcp(40000, 23, seq: 100, flags: 0x01), .. new byte[10]]), LinkType.RawIp, RejectKind.TcpReset, out _);
        Assert.Equal(111u, a.Ack); // 10 bytes + FIN
    }

    [Fact]
    public void NoResetForAReset() =>
        Assert.Equal(0, Length(Ipv4(A4, B4, ProtoTcp, Tcp(40000, 23, flags: 0x04)), LinkType.RawIp, RejectKind.TcpReset));

    [Fact]
    public void NoResetForUdp() =>
        Assert.Equal(0, Length(Ipv4(A4, B4, ProtoUdp, Udp(1, 2)), LinkType.RawIp, RejectKind.TcpReset));

    [Fact]
    public void PortUnreachable_QuotesTheRejectedPacket()
    {
        byte[] original = Ipv4(A4, B4, ProtoUdp, Udp(40000, 53, [1, 2, 3]));
        var a = Answer(original, LinkType.RawIp, RejectKind.IcmpPortUnreachable, out byte[] bytes);
        Assert.Equal(IpProto.Icmp, a.Protocol);
        Assert.Equal((byte)3, a.IcmpType);
        Assert.Equal((byte)3, a.IcmpCode);
        Assert.Equal(B4, a.Src.ToString(false));
        Assert.Equal(original, bytes[28..]);
        Assert.True(Checksum.VerifyL4(ref a));
    }

    [Fact]
    public void Icmp6PortUnreachable_FromAV4Kind_ForAnIpv6Packet()
    {
        var a = Answer(Ipv6(A6, B6, ProtoUdp, Udp(40000, 53)), LinkType.RawIp, RejectKind.IcmpPortUnreachable, out _);
        Assert.Equal(IpProto.Icmpv6, a.Protocol);
        Assert.Equal((byte)1, a.IcmpType);
        Assert.Equal((byte)4, a.IcmpCode);
        Assert.True(Checksum.VerifyL4(ref a));
    }

    [Fact]
    public void Icmp6Error_IsCappedAt1280Bytes()
    {
        var a = Answer(Ipv6(A6, B6, ProtoUdp, Udp(40000, 53, new byte[1400])), LinkType.RawIp, RejectKind.Icmp6AdmProhibited, out byte[] bytes);
        Assert.Equal(1280, bytes.Length);
        Assert.True(Checksum.VerifyL4(ref a));
    }

    [Fact]
    public void NoIcmpErrorForAnIcmpError() =>
        Assert.Equal(0, Length(Ipv4(A4, B4, ProtoIcmp, Icmp(3, 3, payload: Ipv4(B4, A4, ProtoUdp, Udp(1, 2)))), LinkType.RawIp, RejectKind.IcmpPortUnreachable));

    [Fact]
    public void NoAnswerToMulticast() =>
        Assert.Equal(0, Length(Ipv4(A4, "224.0.0.251", ProtoUdp, Udp(5353, 5353)), LinkType.RawIp, RejectKind.IcmpPortUnreachable));

    [Fact]
    public void NoAnswerToANonFirstFragment() =>
        Assert.Equal(0, Length(Ipv4(A4, B4, ProtoUdp, new byte[16], fragmentOffset: 8), LinkType.RawIp, RejectKind.IcmpPortUnreachable));

    [Fact]
    public void EthernetAnswer_SwapsTheMacsAndKeepsTheVlanTag()
    {
        byte[] frame = EthernetVlan(Ipv4(A4, B4, ProtoTcp, Tcp(40000, 23)), 42);
        var a = Answer(frame, LinkType.Ethernet, RejectKind.TcpReset, out byte[] bytes);
        Assert.Equal(frame[6..12], bytes[..6]);  // to the sender
        Assert.Equal(frame[..6], bytes[6..12]);  // from whom it was for
        Assert.Equal(42, a.VlanId);
        Assert.Equal(B4, a.Src.ToString(false));
    }

    [Fact]
    public void Build_DoesNotAllocate()
    {
        byte[] frame = Ethernet(Ipv6(A6, B6, ProtoTcp, Tcp(40000, 23)));
        var buffer = new byte[RejectBuilder.MaxAnswerLength];
        PacketParser.Parse(frame, LinkType.Ethernet, out var p);
        RejectBuilder.Build(ref p, RejectKind.TcpReset, buffer);
        long least = long.MaxValue;
        for (int attempt = 0; attempt < 3 && least != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                RejectBuilder.Build(ref p, RejectKind.TcpReset, buffer);
                RejectBuilder.Build(ref p, RejectKind.Icmp6AdmProhibited, buffer);
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, least); // least of three, as AllocationProbe (p is a ref local: no lambda)
    }
}
