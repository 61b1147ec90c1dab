using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.Tcp.Conn;

namespace Firewall.Core.Tests.Conntrack;

/// <summary>
/// An entry's timer is filed in its owner's wheel. A packet that shortens the timeout (ESTABLISHED → TIME_WAIT/CLOSE)
/// must get the entry reaped at its new deadline, not when the slot of the old, longer deadline comes round
/// (up to a wheel lap, 70 minutes, later): until reaped it is counted, holds a slot and, being ASSURED, cannot be
/// early-dropped.
/// </summary>
public class TimerRefileTests
{
    private const long S = 1_000_000_000L;
    private static readonly IpAddr A = TestPackets.V4("198.18.0.1"), B = TestPackets.V4("198.18.0.2");
    private readonly ConntrackTable _t = new(new ConntrackOptions { Max = 64 });
    private readonly ConntrackWorker _wa, _wb;
    private long _now = 1000 * S;

    public TimerRefileTests()
    {
        _wa = _t.CreateWorker();
        _wb = _t.CreateWorker();
    }

    private TrackResult Send(ConntrackWorker w, bool fromA, Seg seg)
    {
        var p = seg.Parse();
        p.Src = fromA ? A : B;
        p.Dst = fromA ? B : A;
        p.SrcPort = fromA ? (ushort)42001 : (ushort)8080;
        p.DstPort = fromA ? (ushort)8080 : (ushort)42001;
        var r = w.Track(ref p, _now, TrackOptions.LocallyGenerated);
        if (r.IsNew) w.Confirm(ref r);
        return r;
    }

    /// <summary>Handshake, then a keep-alive after the SYN's timer slot passed: the entry is re-filed 5 days out.</summary>
    private void EstablishedAndFiledFarAway()
    {
        Send(_wa, true, SynA);
        Send(_wb, false, SynAckB);
        Send(_wa, true, AckA);
        _now += 100 * S;
        Send(_wa, true, new Seg(F.Ack, IsnA + 1, IsnB + 1, WinA));
        _now += 30 * S;
        _wa.Maintain(_now); // the SYN's slot (120 s) comes round: not due, re-filed at the 432,000 s deadline
        _wb.Maintain(_now);
        Assert.Equal(TcpState.Established, Assert.Single(_t.Snapshot(_now)).TcpState);
    }

    [Fact]
    public void TimeWaitSetByTheOwner_IsReapedAtItsDeadline()
    {
        EstablishedAndFiledFarAway();
        Send(_wa, true, new Seg(F.FinAck, IsnA + 1, IsnB + 1, WinA));
        Send(_wa, false, new Seg(F.FinAck, IsnB + 1, IsnA + 2, WinB));
        var last = Send(_wa, true, new Seg(F.Ack, IsnA + 2, IsnB + 2, WinA));
        Assert.Equal(TcpState.TimeWait, last.TcpState);

        _now += 121 * S;
        _wa.Maintain(_now);
        Assert.Empty(_t.Snapshot(_now));
        Assert.Equal(0, _t.Count);
    }

    [Fact]
    public void CloseSetByAnotherWorker_IsReapedByTheOwnerAtItsDeadline()
    {
        EstablishedAndFiledFarAway();
        var rst = Send(_wb, false, new Seg(F.RstAck, IsnB + 1, IsnA + 1, 0));
        Assert.Equal(TcpState.Close, rst.TcpState);

        _now += 11 * S;
        _wb.Maintain(_now);
        _wa.Maintain(_now);
        Assert.Empty(_t.Snapshot(_now));
        Assert.Equal(0, _t.Count);
    }
}
