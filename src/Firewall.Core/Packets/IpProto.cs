namespace Firewall.Core.Packets;

/// <summary>IP protocol numbers the engine knows by name.</summary>
public static class IpProto
{
    public const byte HopOpts = 0;
    public const byte Icmp = 1;
    public const byte Igmp = 2;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6Route = 43;
    public const byte Ipv6Frag = 44;
    public const byte Gre = 47;
    public const byte Esp = 50;
    public const byte Ah = 51;
    public const byte Icmpv6 = 58;
    public const byte Ipv6NoNext = 59;
    public const byte Ipv6DstOpts = 60;
    public const byte Sctp = 132;
    public const byte UdpLite = 136;
    public const byte Dccp = 33;

    /// <summary>Name as /proc/net/nf_conntrack prints the L4 protocol ("unknown" for generic).</summary>
    public static string ConntrackName(byte proto) => proto switch
    {
        Tcp => "tcp",
        Udp => "udp",
        Icmp => "icmp",
        Icmpv6 => "icmpv6",
        UdpLite => "udplite",
        Sctp => "sctp",
        Gre => "gre",
        _ => "unknown",
    };
}

/// <summary>TCP flag bits.</summary>
public static class TcpFlags
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
    public const byte Urg = 0x20;
    public const byte Ece = 0x40;
    public const byte Cwr = 0x80;
}
