using BenchmarkDotNet.Attributes;
using Firewall.Cli.Bench;
using Firewall.Core.Packets;

namespace Firewall.Benchmarks;

/// <summary>Parser throughput on typical frames (context for the conntrack figures): ns per frame.</summary>
[MemoryDiagnoser]
public class PacketParserBenchmarks
{
    private const int Frames = 4096;
    private readonly byte[] _v4Tcp = new byte[BenchFrames.MaxFrame], _v6Udp = new byte[BenchFrames.MaxFrame];
    private int _v4TcpLength, _v6UdpLength;

    [GlobalSetup]
    public void Setup()
    {
        _v4TcpLength = BenchFrames.Ipv4Tcp(_v4Tcp, BenchFrames.V4(1), BenchFrames.V4(2), 40000, 443, 1000, 2000,
                                           BenchFrames.Psh | BenchFrames.Ack, 502, 64);
        _v6UdpLength = BenchFrames.Ipv6Udp(_v6Udp, 1, 2, 40000, 53, 64);
        Check(_v4Tcp, _v4TcpLength, IpProto.Tcp);
        Check(_v6Udp, _v6UdpLength, IpProto.Udp);
    }

    private static void Check(byte[] frame, int length, byte proto)
    {
        if (PacketParser.Parse(frame.AsSpan(0, length), LinkType.Ethernet, out var p) != ParseError.None || p.Protocol != proto)
            throw new InvalidOperationException($"frame does not parse as protocol {proto}: {p.Error}");
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public long EthernetIpv4Tcp() => ParseMany(_v4Tcp.AsSpan(0, _v4TcpLength));

    [Benchmark(OperationsPerInvoke = Frames)]
    public long EthernetIpv6Udp() => ParseMany(_v6Udp.AsSpan(0, _v6UdpLength));

    private static long ParseMany(ReadOnlySpan<byte> frame)
    {
        long sum = 0;
        for (int i = 0; i < Frames; i++)
        {
            PacketParser.Parse(frame, LinkType.Ethernet, out var p);
            sum += p.DstPort;
        }
        return sum;
    }
}
