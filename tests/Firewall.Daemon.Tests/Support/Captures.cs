using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using Firewall.Core.Tests.Packets;

namespace Firewall.Daemon.Tests.Support;

/// <summary>Capture files of raw IPv4 packets for the replay data path (addresses from 198.18.0.0/15).</summary>
public static class Captures
{
    public const string Client = "198.18.10.2", Server = "198.18.20.2";

    public static void Write(string path, IEnumerable<byte[]> packets)
    {
        using var w = PcapWriter.Create(path, LinkType.RawIp);
        long t = 1_700_000_000_000_000_000;
        foreach (var p in packets) { w.Write(t, p); t += 1_000_000; }
    }

    /// <summary>A TCP handshake (client 40000 → server 80), one data segment, and a UDP exchange (5000 → 53).</summary>
    public static List<byte[]> EstablishedTcpAndUdp() =>
    [
        FrameBuilder.Ipv4(Client, Server, 6, FrameBuilder.Tcp(40000, 80, seq: 100, flags: 0x02)),
        FrameBuilder.Ipv4(Server, Client, 6, FrameBuilder.Tcp(80, 40000, seq: 500, ack: 101, flags: 0x12)),
        FrameBuilder.Ipv4(Client, Server, 6, FrameBuilder.Tcp(40000, 80, seq: 101, ack: 501, flags: 0x10)),
        FrameBuilder.Ipv4(Client, Server, 6, FrameBuilder.Tcp(40000, 80, seq: 101, ack: 501, flags: 0x18, payload: "GET / HTTP/1.0\r\n\r\n"u8.ToArray())),
        FrameBuilder.Ipv4(Client, Server, 17, FrameBuilder.Udp(5000, 53, "query"u8.ToArray())),
        FrameBuilder.Ipv4(Server, Client, 17, FrameBuilder.Udp(53, 5000, "answer"u8.ToArray())),
    ];

    /// <summary>The same flows carrying on: the server answers over TCP, UDP continues both ways.</summary>
    public static List<byte[]> Continuation() =>
    [
        FrameBuilder.Ipv4(Server, Client, 6, FrameBuilder.Tcp(80, 40000, seq: 501, ack: 119, flags: 0x18, payload: "HTTP/1.0 200 OK\r\n"u8.ToArray())),
        FrameBuilder.Ipv4(Client, Server, 6, FrameBuilder.Tcp(40000, 80, seq: 119, ack: 518, flags: 0x10)),
        FrameBuilder.Ipv4(Server, Client, 17, FrameBuilder.Udp(53, 5000, "answer2"u8.ToArray())),
        FrameBuilder.Ipv4(Client, Server, 17, FrameBuilder.Udp(5000, 53, "query2"u8.ToArray())),
    ];
}
