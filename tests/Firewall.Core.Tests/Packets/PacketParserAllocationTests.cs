using Firewall.Core.Packets;

namespace Firewall.Core.Tests.Packets;

public class PacketParserAllocationTests
{
    [Fact]
    public void Parsing_AllocatesNothing()
    {
        var samples = SampleFrames.All;
        int sink = Run(samples, 2000); // warm up: JIT and tiering happen here

        Assert.Equal(0, AllocationProbe.LeastBytesAllocated(() => sink += Run(samples, 10_000)));
        Assert.NotEqual(0, sink);
    }

    private static int Run((LinkType Link, byte[] Frame)[] samples, int count)
    {
        int sink = 0;
        for (int i = 0; i < count; i++)
        {
            var (link, frame) = samples[i % samples.Length];
            PacketParser.Parse(frame, link, out var p);
            sink += p.L4Offset + p.SrcPort;
            if (p.InnerL3Offset != 0)
            {
                PacketParser.ParseEmbedded(in p, out var inner);
                sink += inner.DstPort;
            }
            if (PacketParser.Ipv4HeaderChecksumOk(ref p)) sink++;
        }
        return sink;
    }
}
