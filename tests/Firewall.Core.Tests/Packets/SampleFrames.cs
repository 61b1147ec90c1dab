using Firewall.Core.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets;

/// <summary>One valid frame of every kind the parser knows, with its link type (for property and allocation tests).</summary>
public static class SampleFrames
{
    public static readonly (LinkType Link, byte[] Frame)[] All = Build();

    private static (LinkType, byte[])[] Build()
    {
        var tcpOpts = Concat(TcpOption.Mss(1460), TcpOption.SackPermitted(), TcpOption.Timestamp(1, 2), TcpOption.Nop(), TcpOption.WindowScale(7));
        var sack = Concat(TcpOption.Nop(), TcpOption.Nop(), TcpOption.Sack((1, 2), (3, 4)));
        var tcp4 = Ipv4(A4, B4, ProtoTcp, Tcp(1000, 80, options: tcpOpts, payload: [1, 2, 3]), options: [1, 1, 1, 0]);
        var tcp6 = Ipv6(A6, B6, ProtoTcp, Tcp(1000, 80, flags: TcpFlags.Ack, options: sack, payload: [4, 5]),
            ext: [HopByHop(), Routing(), DestinationOptions(), Ah()]);
        var udp4 = Ipv4(A4, B4, ProtoUdp, Udp(53, 4000, new byte[12]));
        var udp6 = Ipv6(A6, B6, ProtoUdp, Udp(53, 4000, new byte[12]));
        var icmpErr4 = Ipv4(C4, A4, ProtoIcmp, Icmp(3, 3, payload: udp4[..28]));
        var icmpErr4Tcp = Ipv4(C4, A4, ProtoIcmp, Icmp(11, 0, payload: tcp4[..32]));
        var icmpErr6 = Ipv6(C6, A6, ProtoIcmpv6, Icmp(1, 4, payload: tcp6[..120]));
        var echo4 = Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0, 1, 1, new byte[8]));
        var echo6 = Ipv6(A6, B6, ProtoIcmpv6, Icmp(128, 0, 1, 1, new byte[8]));
        var frag4 = Ipv4(A4, B4, ProtoUdp, new byte[24], fragmentOffset: 1480);
        var frag6 = Ipv6(A6, B6, ProtoUdp, new byte[24], ext: [Fragment(1232, false)]);
        var firstFrag6 = Ipv6(A6, B6, ProtoUdp, Udp(1, 2, new byte[16]), ext: [Fragment(0, true)]);
        return
        [
            (LinkType.Ethernet, Ethernet(tcp4)),
            (LinkType.Ethernet, Ethernet(tcp6, 0, (0x88A8, 10), (0x8100, 20))),
            (LinkType.Ethernet, Concat(Ethernet(udp4), new byte[10])),
            (LinkType.Ethernet, EthernetVlan(icmpErr4, 7)),
            (LinkType.Ethernet, Ethernet(icmpErr6)),
            (LinkType.Ethernet, Ethernet(Arp(), 0x0806)),
            (LinkType.Ethernet, Ethernet(frag4)),
            (LinkType.RawIp, icmpErr4Tcp),
            (LinkType.RawIp, udp6),
            (LinkType.Ipv4, echo4),
            (LinkType.Ipv4, Ipv4(A4, B4, ProtoSctp, Sctp(1, 2, 3, new byte[8]))),
            (LinkType.Ipv4, Ipv4(A4, B4, ProtoDccp, Dccp(1, 2))),
            (LinkType.Ipv6, echo6),
            (LinkType.Ipv6, frag6),
            (LinkType.Ipv6, firstFrag6),
            (LinkType.Ipv6, Ipv6(A6, B6, ProtoUdpLite, Udp(1, 2))),
            (LinkType.LinuxSll, Sll(tcp4)),
            (LinkType.LinuxSll2, Sll2(icmpErr6)),
            (LinkType.Nflog, Nflog(tcp4, prefix: "drop: ", hook: 1)),
            (LinkType.Nflog, Nflog(icmpErr6, prefix: "x", hook: 3)),
        ];
    }
}
