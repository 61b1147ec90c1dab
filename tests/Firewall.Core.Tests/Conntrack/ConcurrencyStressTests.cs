using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Conntrack.Tcp;

namespace Firewall.Core.Tests.Conntrack;

/// <summary>
/// Two packet threads (one per direction, a conntrack worker each) and a listing thread on one table. Per flow the
/// packets happen in script order (a per-flow step counter); across flows the threads interleave freely. The outcome
/// must equal a single-threaded run of the same packets.
/// </summary>
[Collection(SerialCollection.Name)]
public class ConcurrencyStressTests
{
    private const long Now = 1000L * 1_000_000_000; // every packet at the same engine time: results are deterministic
    private const int Flows = 100_000;
    private const int Side = 0, Other = 1;          // thread A sends ORIGINAL-direction packets, thread B REPLY
    private static readonly IpAddr Server = TestPackets.V4("198.19.0.1");

    private enum Kind { TcpClose, TcpReset, TcpRefused, UdpBothWays, UdpOneWay }

    /// <summary>One packet of a flow script: who sends it and, for TCP, its segment.</summary>
    private readonly record struct Step(int From, Seg Tcp);

    private const uint IsnA = Conn.IsnA, IsnB = Conn.IsnB;

    private static readonly Step[] TcpClose =
    [
        new(Side, Conn.SynA), new(Other, Conn.SynAckB), new(Side, Conn.AckA),
        new(Side, new Seg(F.PshAck, IsnA + 1, IsnB + 1, Conn.WinA, Payload: 100)),
        new(Other, new Seg(F.Ack, IsnB + 1, IsnA + 101, Conn.WinB)),
        new(Other, new Seg(F.PshAck, IsnB + 1, IsnA + 101, Conn.WinB, Payload: 50)),
        new(Side, new Seg(F.Ack, IsnA + 101, IsnB + 51, Conn.WinA)),
        new(Side, new Seg(F.FinAck, IsnA + 101, IsnB + 51, Conn.WinA)),
        new(Other, new Seg(F.FinAck, IsnB + 51, IsnA + 102, Conn.WinB)),
        new(Side, new Seg(F.Ack, IsnA + 102, IsnB + 52, Conn.WinA)),
    ];

    private static readonly Step[] TcpReset =
    [
        .. TcpClose[..7],
        new(Other, new Seg(F.RstAck, IsnB + 51, IsnA + 101, 0)),
    ];

    private static readonly Step[] TcpRefused =
    [
        new(Side, Conn.SynA), new(Other, new Seg(F.RstAck, 0, IsnA + 1, 0)),
    ];

    private static readonly Step[] UdpBothWays = [new(Side, default), new(Other, default), new(Side, default), new(Other, default)];
    private static readonly Step[] UdpOneWay = [new(Side, default)];

    private static Kind KindOf(int flow) => (Kind)(flow % 5);

    private static Step[] Script(int flow) => KindOf(flow) switch
    {
        Kind.TcpClose => TcpClose,
        Kind.TcpReset => TcpReset,
        Kind.TcpRefused => TcpRefused,
        Kind.UdpBothWays => UdpBothWays,
        _ => UdpOneWay,
    };

    private static IpAddr Client(int flow) => new(0, TestPackets.V4("198.18.0.0").Lo + (uint)(flow & 0xFFFF));
    private static ushort ClientPort(int flow) => (ushort)(1024 + (flow >> 16));
    private static bool IsTcp(int flow) => KindOf(flow) is Kind.TcpClose or Kind.TcpReset or Kind.TcpRefused;

    private static CtState Send(ConntrackWorker w, int flow, in Step st, byte[] buf)
    {
        bool fromA = st.From == Side;
        IpAddr src = fromA ? Client(flow) : Server, dst = fromA ? Server : Client(flow);
        ushort sport = fromA ? ClientPort(flow) : (ushort)80, dport = fromA ? (ushort)80 : ClientPort(flow);
        ParsedPacket p;
        if (IsTcp(flow))
        {
            p = st.Tcp.Parse();
            p.Src = src; p.Dst = dst; p.SrcPort = sport; p.DstPort = dport;
        }
        else
        {
            p = TestPackets.Udp(buf, src, sport, dst, dport);
        }
        var r = w.Track(ref p, Now, TrackOptions.LocallyGenerated);
        if (r.IsNew && !w.Confirm(ref r)) return 0; // 0: "dropped at confirm", never expected here
        return r.State;
    }

    /// <summary>
    /// Sends every packet of <paramref name="side"/> in flow order, keeping a window of the earliest flows that still
    /// have packets for this side and sending whichever is due (the step counter says whose turn it is). Both threads
    /// admit flows in the same order, so a flow waiting for the other side is always in the other side's window.
    /// </summary>
    private static void Drive(ConntrackWorker w, int side, int[] step, CtState[][] results)
    {
        const int Window = 48;
        var active = new List<int>(Window);
        var buf = new byte[64];
        var spin = new SpinWait();
        int next = 0;
        while (next < Flows || active.Count > 0)
        {
            while (active.Count < Window && next < Flows)
            {
                if (LastStepOf(Script(next), side) >= 0) active.Add(next);
                next++;
            }
            bool progress = false;
            for (int j = active.Count - 1; j >= 0; j--)
            {
                int f = active[j];
                var script = Script(f);
                int s = Volatile.Read(ref step[f]);
                if (s < script.Length && script[s].From == side)
                {
                    results[f][s] = Send(w, f, in script[s], buf);
                    Volatile.Write(ref step[f], ++s);
                    progress = true;
                }
                if (s > LastStepOf(script, side)) active.RemoveAt(j);
            }
            if (progress) spin.Reset(); else spin.SpinOnce();
        }
    }

    private static int LastStepOf(Step[] script, int side)
    {
        for (int i = script.Length - 1; i >= 0; i--) if (script[i].From == side) return i;
        return -1;
    }

    private static CtState[][] NewResults()
    {
        var r = new CtState[Flows][];
        for (int f = 0; f < Flows; f++) r[f] = new CtState[Script(f).Length];
        return r;
    }

    private static ConntrackTable NewTable() => new(new ConntrackOptions { Max = 262_144, EventRingSize = 0 });

    /// <summary>What must be true of any listed entry at any moment; null when it is.</summary>
    private static string? Inconsistency(in ConntrackEntrySnapshot e, ConntrackSettings s)
    {
        var o = e.Orig;
        int flow = (int)(o.Src.Lo - TestPackets.V4("198.18.0.0").Lo) | (o.SrcId - 1024) << 16;
        if (o.Dst != Server || o.DstId != 80 || flow < 0 || flow >= Flows || Client(flow) != o.Src) return $"unknown tuple {o}";
        if (o.Proto != (IsTcp(flow) ? IpProto.Tcp : IpProto.Udp)) return $"flow {flow} has protocol {o.Proto}";
        if (!o.TryInvert(out var inv) || !e.Reply.Equals(inv)) return $"flow {flow}: reply tuple is not the inverse";
        if ((e.Status & CtStatus.Confirmed) == 0 || (e.Status & CtStatus.Dying) != 0) return $"flow {flow}: listed with status {e.Status}";
        bool seenReply = (e.Status & CtStatus.SeenReply) != 0;
        if ((e.Status & CtStatus.Assured) != 0 && !seenReply) return $"flow {flow}: ASSURED without SEEN_REPLY";
        if (o.Proto == IpProto.Tcp)
        {
            if (e.TcpState is < TcpState.SynSent or > TcpState.SynSent2) return $"flow {flow}: TCP state {e.TcpState}";
            if ((e.TcpState == TcpState.SynSent) == seenReply) return $"flow {flow}: {e.TcpState} with status {e.Status}";
            if (e.RemainingMs > s.TcpTimeoutMs[(int)e.TcpState]) return $"flow {flow}: {e.RemainingMs} ms left in {e.TcpState}";
        }
        else
        {
            if (e.State != 0) return $"flow {flow}: UDP state byte {e.State}";
            if (KindOf(flow) == Kind.UdpOneWay && seenReply) return $"flow {flow}: one-way flow with SEEN_REPLY";
            if (e.RemainingMs > s.UdpStreamMs) return $"flow {flow}: {e.RemainingMs} ms left";
        }
        return null;
    }

    private static Dictionary<ConnTuple, (CtStatus, byte, uint)> Final(ConntrackTable t)
    {
        var d = new Dictionary<ConnTuple, (CtStatus, byte, uint)>();
        foreach (var e in t.Snapshot(Now)) d.Add(e.Orig, (e.Status, e.State, e.RemainingMs));
        return d;
    }

    [Fact]
    public void TwoDirectionThreadsAndAListingThread_EndAsTheSequentialRun()
    {
        // reference: one worker, flows one after the other
        var seqTable = NewTable();
        var seqWorker = seqTable.CreateWorker();
        var expected = NewResults();
        var buf = new byte[64];
        for (int f = 0; f < Flows; f++)
        {
            var script = Script(f);
            for (int s = 0; s < script.Length; s++) expected[f][s] = Send(seqWorker, f, in script[s], buf);
        }

        var table = NewTable();
        var wa = table.CreateWorker();
        var wb = table.CreateWorker();
        var step = new int[Flows];
        var results = NewResults();
        var settings = table.Settings;
        string? listingProblem = null;
        int listings = 0;
        bool done = false;
        Exception? failure = null;

        var lister = new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref done) && listingProblem is null)
                {
                    var seen = new HashSet<ConnTuple>();
                    foreach (var e in table.Snapshot(Now))
                    {
                        listingProblem ??= Inconsistency(in e, settings);
                        if (!seen.Add(e.Orig)) listingProblem ??= $"flow listed twice: {e.Orig}";
                    }
                    listings++;
                }
            }
            catch (Exception ex) { failure = ex; }
        });
        Thread Driver(ConntrackWorker w, int side) => new(() =>
        {
            try { Drive(w, side, step, results); }
            catch (Exception ex) { failure = ex; Volatile.Write(ref done, true); }
        });
        var a = Driver(wa, Side);
        var b = Driver(wb, Other);
        lister.Start(); a.Start(); b.Start();
        Assert.True(a.Join(TimeSpan.FromSeconds(60)) && b.Join(TimeSpan.FromSeconds(60)), "packet threads did not finish in 60 s");
        Volatile.Write(ref done, true);
        lister.Join();
        Assert.Null(failure);
        Assert.Null(listingProblem);
        Assert.True(listings > 0, "the listing thread never completed a listing");

        for (int f = 0; f < Flows; f++)
            for (int s = 0; s < expected[f].Length; s++)
                if (results[f][s] != expected[f][s])
                    Assert.Fail($"flow {f} ({KindOf(f)}) packet {s}: {results[f][s]}, sequential run {expected[f][s]}");

        // the entries B killed (refused connections) are freed by their owner A on its next tick
        wa.Maintain(Now);
        wb.Maintain(Now);
        Assert.Equal(seqTable.Count, table.Count);
        var want = Final(seqTable);
        var got = Final(table);
        Assert.Equal(want.Count, got.Count);
        Assert.Equal(Flows / 5 * 4, got.Count); // refused connections leave nothing
        foreach (var (tuple, v) in want)
        {
            Assert.True(got.TryGetValue(tuple, out var g), $"missing {tuple}");
            Assert.Equal(v, g);
        }
    }

    [Fact]
    public void RacingFirstUdpPacketsOfBothDirections_LeaveOneEntryPerFlow()
    {
        const int N = 20_000;
        var table = new ConntrackTable(new ConntrackOptions { Max = 65_536, EventRingSize = 0 });
        var workers = new[] { table.CreateWorker(), table.CreateWorker() };
        var arrived = new int[N];
        var entry = new int[2, N];
        var version = new int[2, N];
        var state = new CtState[2, N];
        Exception? failure = null;

        Thread Racer(int side) => new(() =>
        {
            try
            {
                var w = workers[side];
                var buf = new byte[64];
                var spin = new SpinWait();
                for (int f = 0; f < N; f++)
                {
                    // Both first packets are tracked before either is confirmed (the rules take time between the two
                    // steps), so every flow has two unconfirmed entries whose confirmations race: one must lose.
                    Rendezvous(ref arrived[f], 2, ref spin);
                    var p = side == Side
                        ? TestPackets.Udp(buf, Client(f), 5000, Server, 53)
                        : TestPackets.Udp(buf, Server, 53, Client(f), 5000);
                    var r = w.Track(ref p, Now, TrackOptions.LocallyGenerated);
                    if (!r.IsNew) throw new Exception($"flow {f}: first packet was not new ({r.State})");
                    Rendezvous(ref arrived[f], 4, ref spin);
                    if (!w.Confirm(ref r)) throw new Exception($"flow {f}: UDP clash dropped the packet");
                    entry[side, f] = r.Entry;
                    version[side, f] = r.Version;
                    state[side, f] = r.State;
                }
            }
            catch (Exception ex) { failure = ex; }
        });
        var a = Racer(Side);
        var b = Racer(Other);
        a.Start(); b.Start();
        Assert.True(a.Join(TimeSpan.FromSeconds(60)) && b.Join(TimeSpan.FromSeconds(60)), "racing threads did not finish in 60 s");
        Assert.Null(failure);
        workers[0].Maintain(Now);
        workers[1].Maintain(Now);

        var list = table.Snapshot(Now);
        Assert.Equal(N, table.Count);
        Assert.Equal(N, list.Count);
        var byFlow = new Dictionary<IpAddr, int>();
        foreach (var e in list)
        {
            var client = e.Orig.Src == Server ? e.Orig.Dst : e.Orig.Src;
            Assert.True(byFlow.TryAdd(client, e.Index), $"two entries for the flow of {client}");
        }
        for (int f = 0; f < N; f++)
        {
            Assert.True(byFlow.TryGetValue(Client(f), out int idx), $"flow {f} has no entry");
            // A packet joins the surviving entry; only one whose own entry was confirmed and then lost the race (it
            // checked for a duplicate before the other was inserted) keeps a handle that is stale (old version).
            for (int side = 0; side < 2; side++)
                Assert.True(entry[side, f] == idx || table.Entries[entry[side, f]].Version != version[side, f],
                    $"flow {f}: packet holds a live handle to entry {entry[side, f]}, the flow's entry is {idx}");
            Assert.True(entry[0, f] == idx || entry[1, f] == idx, $"flow {f}: neither packet points at the surviving entry {idx}");
            Assert.True(state[0, f] == CtState.New && state[1, f] == CtState.New, $"flow {f}: {state[0, f]} / {state[1, f]}");
        }
        Assert.True(table.ReadCounters().ClashResolve > 0, "no confirmation took the clash path");
    }

    private static void Rendezvous(ref int counter, int target, ref SpinWait spin)
    {
        Interlocked.Increment(ref counter);
        spin.Reset();
        while (Volatile.Read(ref counter) < target) spin.SpinOnce();
    }
}
