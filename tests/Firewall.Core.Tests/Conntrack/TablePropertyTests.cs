using FsCheck;
using FsCheck.Fluent;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Conntrack.Tcp;
using Firewall.Core.Tests.Packets;

namespace Firewall.Core.Tests.Conntrack;

/// <summary>Invariants of the table under random operation sequences, and robustness against random frames.</summary>
[Collection(SerialCollection.Name)]
public class TablePropertyTests
{
    private const long Ms = 1_000_000;
    private const int Max = 8;
    private const int FlowIds = 24; // three times Max: the table is full most of the time
    private static readonly IpAddr Server = TestPackets.V4("198.19.0.1");

    private enum Op { UdpOrig, UdpReply, TcpSyn, TcpSynAck, TcpAck, TcpRstReply, Advance, Delete, Maintain }

    /// <summary>One operation: what, on which flow (even ids UDP, odd TCP), accepted or dropped by the rules, and a time step.</summary>
    private readonly record struct Action(Op Op, int Flow, bool Accept, int Ticks)
    {
        public override string ToString() => Op switch
        {
            Op.Advance => $"Advance({Ticks} ticks)",
            Op.Maintain or Op.Delete => $"{Op}({Flow})",
            _ => $"{Op}({Flow}{(Accept ? "" : ", drop")})",
        };
    }

    private static readonly Gen<Action> ActionGen =
        from op in Gen.Frequency(
            (4, Gen.Constant(Op.UdpOrig)), (3, Gen.Constant(Op.UdpReply)),
            (3, Gen.Constant(Op.TcpSyn)), (3, Gen.Constant(Op.TcpSynAck)), (3, Gen.Constant(Op.TcpAck)), (1, Gen.Constant(Op.TcpRstReply)),
            (3, Gen.Constant(Op.Advance)), (1, Gen.Constant(Op.Delete)), (2, Gen.Constant(Op.Maintain)))
        from flow in Gen.Choose(0, FlowIds - 1)
        from accept in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        from ticks in Gen.Frequency((6, Gen.Choose(0, 5)), (3, Gen.Choose(1, 200)), (1, Gen.Choose(1000, 6000)))
        select new Action(op, flow, accept, ticks);

    private static IpAddr Client(int flow) => new(0, TestPackets.V4("198.18.0.10").Lo + (uint)flow);

    /// <summary>
    /// The driver. Engine time moves in whole wheel ticks (1,024 ms) and the default timeouts are never multiples of a
    /// tick, so after Maintain every expired entry has been reaped and Count must equal the listing exactly.
    /// </summary>
    private sealed class Run
    {
        private readonly ConntrackTable _t = new(new ConntrackOptions { Max = Max });
        private readonly ConntrackWorker _w;
        private readonly List<CtEvent> _events = [];
        private readonly byte[] _buf = new byte[64];
        private long _now = 1_000_000L * 1024 * Ms;

        public Run()
        {
            _w = _t.CreateWorker();
            _t.EventsEnabled = true;
        }

        public void Apply(Action a)
        {
            switch (a.Op)
            {
                case Op.Advance: _now += a.Ticks * 1024L * Ms; return;
                case Op.Maintain:
                    _w.Maintain(_now);
                    Drain();
                    int listed = _t.Snapshot(_now).Count;
                    if (_t.Count != listed) throw new Exception($"after Maintain Count is {_t.Count} but {listed} entries are listed");
                    return;
                case Op.Delete:
                    var tuple = OrigTuple(a.Flow);
                    _t.Delete(_now, e => e.Orig.Equals(tuple));
                    Drain();
                    return;
            }

            bool anyUnassured = false;
            foreach (var e in _t.Snapshot(_now)) anyUnassured |= (e.Status & CtStatus.Assured) == 0;
            long earlyDrops = _t.ReadCounters().EarlyDrop;

            var p = Packet(a);
            var r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
            if (r.IsNew) { if (a.Accept) _w.Confirm(ref r); else _w.Release(ref r); }
            if (r.State == CtState.Invalid && r.Reason == InvalidReason.None) throw new Exception("INVALID without a reason");

            if (_t.Count > Max) throw new Exception($"Count {_t.Count} exceeds Max {Max}");
            long dropped = _t.ReadCounters().EarlyDrop - earlyDrops;
            var own = OrigTuple(a.Flow);
            foreach (var e in Drain())
            {
                // a DESTROY with a timeout shown is a kill before expiry: with no RST or delete in this step, the
                // only such kill of another flow is an early drop
                if (e.Type != CtEventType.Destroy || e.TimeoutMs == uint.MaxValue || e.Orig.Equals(own)) continue;
                if ((e.Status & CtStatus.Assured) != 0) throw new Exception($"ASSURED entry {e.Orig} was evicted");
                if (dropped == 0) throw new Exception($"{e.Orig} destroyed early without an early drop being counted");
            }
            if (r.Reason == InvalidReason.TableFull && anyUnassured)
                throw new Exception("packet dropped as table full while a non-ASSURED entry could have been evicted");
        }

        private List<CtEvent> Drain()
        {
            _events.Clear();
            _t.DrainEvents(_events);
            return _events;
        }

        private ConnTuple OrigTuple(int flow)
        {
            var p = flow % 2 == 0
                ? TestPackets.Udp(_buf, Client(flow), 5000, Server, 53)
                : Tcp(flow, fromClient: true, Conn.SynA);
            ConntrackWorker.TupleOf(ref p, 0, out var t);
            return t;
        }

        private ParsedPacket Packet(Action a)
        {
            int f = a.Flow;
            bool udp = f % 2 == 0;
            return a.Op switch
            {
                Op.UdpOrig or Op.TcpSyn or Op.TcpAck when udp => TestPackets.Udp(_buf, Client(f), 5000, Server, 53),
                Op.UdpReply or Op.TcpSynAck or Op.TcpRstReply when udp => TestPackets.Udp(_buf, Server, 53, Client(f), 5000),
                Op.UdpOrig or Op.TcpSyn => Tcp(f, true, Conn.SynA),
                Op.TcpAck => Tcp(f, true, Conn.AckA),
                Op.UdpReply or Op.TcpSynAck => Tcp(f, false, Conn.SynAckB),
                _ => Tcp(f, false, new Seg(F.RstAck, Conn.IsnB + 1, Conn.IsnA + 1, 0)),
            };
        }

        private static ParsedPacket Tcp(int flow, bool fromClient, Seg seg)
        {
            var p = seg.Parse();
            p.Src = fromClient ? Client(flow) : Server;
            p.Dst = fromClient ? Server : Client(flow);
            p.SrcPort = fromClient ? (ushort)5000 : (ushort)80;
            p.DstPort = fromClient ? (ushort)80 : (ushort)5000;
            return p;
        }
    }

    [Fact]
    public void RandomOperationSequences_KeepCountWithinMax_CountMatchesListing_AndNeverEvictAssured()
    {
        var cfg = Config.QuickThrowOnFailure.WithMaxTest(1000);
        Check.One(cfg, Prop.ForAll(Gen.ListOf(ActionGen).Select(l => l.ToArray()).ToArbitrary(), actions =>
        {
            var run = new Run();
            foreach (var a in actions) run.Apply(a);
            run.Apply(new Action(Op.Maintain, 0, true, 0));
            return true;
        }));
    }

    // ------------------------------------------------------------ frames through parser + tracker

    private static readonly ConntrackTable FrameTable = new(new ConntrackOptions { Max = 64 });
    private static readonly ConntrackWorker FrameWorker = FrameTable.CreateWorker();
    private static long _frameNow = 1000L * 1_000_000_000;

    private static bool TracksWithoutThrowing(byte[] frame, LinkType link, bool received, bool accept)
    {
        lock (FrameTable)
        {
            PacketParser.Parse(frame, link, out var p);
            var opt = received ? TrackOptions.Received : TrackOptions.LocallyGenerated;
            var r = FrameWorker.Track(ref p, _frameNow += 7 * Ms, opt);
            bool hadEntry = r.HasEntry;
            if (r.IsNew) { if (accept) FrameWorker.Confirm(ref r); else FrameWorker.Release(ref r); }
            string? problem = r.State switch
            {
                CtState.Invalid when r.Reason == InvalidReason.None => "INVALID without a reason",
                CtState.Invalid when r.HasEntry => "INVALID with an entry",
                CtState.Invalid or CtState.Untracked => null,
                CtState.New or CtState.Established or CtState.Related when hadEntry || r.Drop => null,
                _ => $"state {r.State} without an entry",
            };
            if (p.Error != ParseError.None && p.Error != ParseError.NotIp && r.State != CtState.Invalid)
                problem ??= $"parse error {p.Error} tracked as {r.State}";
            if (FrameTable.Count > 64) problem ??= $"Count {FrameTable.Count} exceeds Max";
            if (problem is not null) throw new Exception($"{problem} (link {link}, frame {Convert.ToHexString(frame)})");
            return true;
        }
    }

    private static readonly Gen<bool> Coin = Gen.Elements(true, false);

    [Fact]
    public void MutatedAndTruncatedFrames_ThroughParserAndTrack_NeverThrow()
    {
        var gen =
            from sample in Gen.Elements(SampleFrames.All)
            from mutations in Gen.ListOf(Gen.Zip(Gen.Choose(0, 4095), Gen.Choose(0, 255)))
            from cut in Gen.Choose(0, 4095)
            from cutIt in Coin
            from received in Coin
            from accept in Coin
            select (PacketParserPropertyTests.Mutate(sample.Frame, mutations, cutIt ? cut : -1), sample.Link, received, accept);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(4000),
            Prop.ForAll(gen.ToArbitrary(), t => TracksWithoutThrowing(t.Item1, t.Link, t.received, t.accept)));
    }

    [Fact]
    public void RandomBytes_ThroughParserAndTrack_NeverThrow()
    {
        var links = new[] { LinkType.Ethernet, LinkType.RawIp, LinkType.Ipv4, LinkType.Ipv6 };
        var gen =
            from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))
            from version in Gen.Elements((byte)0x45, (byte)0x60, (byte)0)
            from link in Gen.Elements(links)
            from received in Coin
            select (version != 0 && bytes.Length > 0 ? [version, .. bytes[1..]] : bytes, link, received);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(4000),
            Prop.ForAll(gen.ToArbitrary(), t => TracksWithoutThrowing(t.Item1, t.link, t.received, accept: true)));
    }
}
