using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Packets;
using static Firewall.Core.Tests.Conntrack.Sctp.SctpKit;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>The SCTP and GRE packet paths (parse, CRC32c, chunk walk, vtag checks, GRE keys) allocate nothing.</summary>
public class SctpGreAllocationTests
{
    [Fact]
    public void SteadyStateSctpAndGre_AllocateNothing()
    {
        var k = new SctpKit().Reach(SctpState.Established);
        byte[] data = k.Frame(CtDirection.Original, TB, [DataChunk(), DataChunk(2)]);
        byte[] sack = k.Frame(CtDirection.Reply, TA, [AnyChunk(Sack), AnyChunk(Heartbeat)]);
        byte[] badTag = k.Frame(CtDirection.Original, 0x999, [DataChunk()]);
        byte[] greAB = FrameBuilder.Ipv4(FrameBuilder.A4, FrameBuilder.C4, FrameBuilder.ProtoGre, GreBuilder.Pptp(7));
        byte[] greBA = FrameBuilder.Ipv4(FrameBuilder.C4, FrameBuilder.A4, FrameBuilder.ProtoGre, GreBuilder.V0());
        var opt = TrackOptions.Received;
        byte[][] frames = [data, sack, badTag, greAB, greBA];
        void Run(int n)
        {
            for (int i = 0; i < n; i++)
            {
                long now = k.Now + i * 1_000_000L;
                foreach (var f in frames)
                {
                    PacketParser.Parse(f, LinkType.RawIp, out var p);
                    var r = k.W.Track(ref p, now, opt);
                    if (r.IsNew) k.W.Confirm(ref r);
                }
            }
        }
        Run(2000);
        Assert.Equal(0, AllocationProbe.LeastBytesAllocated(() => Run(20000)));
        Assert.Equal(3, k.Table.Count); // the association and two GRE entries
    }
}
