using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.Tcp.Conn;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>
/// tcp_in_window (§4.6). After <see cref="Conn.Established"/>: A.end = 1001, A.maxend = 1001 + 65160 (SYN-ACK
/// window, unscaled), B.end = 5 000 001, B.maxwin = 65160, A.maxwin = 502 × 128 = 64256.
/// </summary>
public class TcpWindowTests
{
    private const uint AMaxEnd = IsnA + 1 + 65160;
    private const uint BMaxWin = 65160;

    [Fact]
    public void Handshake_RecordsScaledWindowsAndMaxAck()
    {
        var sim = Established();
        Assert.Equal(IsnA + 1, sim.S.OrigEnd);
        Assert.Equal(AMaxEnd, sim.S.OrigMaxEnd);               // the SYN-ACK's window is not scaled
        Assert.Equal(64256u, sim.S.OrigMaxWin);                 // 502 << 7
        Assert.Equal(IsnB + 1 + 64256, sim.S.ReplyMaxEnd);      // ack + (502 << 7)
        Assert.Equal(IsnB + 1, sim.S.OrigMaxAck);
        Assert.Equal(IsnA + 1, sim.S.ReplyMaxAck);
        Assert.NotEqual(0, sim.S.OrigFlags & TcpSeenFlags.MaxAckSet);
        Assert.Equal(7, sim.S.Scale(0));
        Assert.Equal(7, sim.S.Scale(1));
    }

    [Fact]
    public void WindowScaling_IsOffWhenOnlyOneSideOffersIt()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(new Seg(F.SynAck, IsnB, IsnA + 1, 65160, SackPerm: true));
        sim.Orig(AckA);
        Assert.Equal(0, sim.S.Scale(0));
        Assert.Equal(0, sim.S.Scale(1));
        Assert.Equal(IsnB + 1 + WinA, sim.S.ReplyMaxEnd);       // 502 unscaled
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void CheckI_SeqAtMaxEnd_IsAccepted()
    {
        var sim = Established();
        sim.Orig(new Seg(F.Ack, AMaxEnd, IsnB + 1, WinA));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
    }

    [Fact]
    public void CheckI_OvershootWithinReceiverMaxWin_IsIgnoredAndRecordsEnd()
    {
        var sim = Established();
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.PshAck, AMaxEnd + 1, IsnB + 1, WinA, Payload: 100)));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.Equal(AMaxEnd + 101, sim.S.OrigEnd);
        Assert.NotEqual(0, sim.S.OrigFlags & TcpSeenFlags.DataUnacknowledged);
        Assert.Equal(AMaxEnd, sim.S.OrigMaxEnd);
    }

    [Fact]
    public void CheckI_OvershootBeyondReceiverMaxWin_IsInvalid()
    {
        var sim = Established();
        // overshot = end - maxend + 1 = maxwin + 1
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Ack, AMaxEnd + BMaxWin, IsnB + 1, WinA)));
        Assert.Equal(InvalidReason.TcpSeqOverUpperBound, sim.LastReason);
        Assert.Equal(IsnA + 1, sim.S.OrigEnd);
    }

    [Fact]
    public void CheckII_AckOfDataNotSent_IsInvalid()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 2, WinA)));
        Assert.Equal(InvalidReason.TcpAckOverUpperBound, sim.LastReason);
    }

    [Fact]
    public void CheckIII_RetransmissionBelowReceiverWindow_IsIgnored()
    {
        var sim = Established();
        uint end = unchecked(IsnA + 1 - BMaxWin - 1);   // not after A.end - B.maxwin - 1
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.PshAck, end - 100, IsnB + 1, WinA, Payload: 100)));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        sim.Orig(new Seg(F.PshAck, end - 99, IsnB + 1, WinA, Payload: 100));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
    }

    [Fact]
    public void CheckIV_OverlyDelayedAck_IsIgnored()
    {
        var sim = Established();
        // MAXACKWINDOW = max(A.maxwin 64256, 66000) = 66000
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1 - 66001, WinA)));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1 - 66000, WinA));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
    }

    [Fact]
    public void BeLiberal_AcceptsOutOfWindowWithoutUpdatingWindowData()
    {
        var sim = Established(With(o => o.TcpBeLiberal = true));
        var before = sim.S;
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.PshAck, IsnA + 1 + 10_000_000, IsnB + 1, WinA, Payload: 100)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(before.OrigSeen, sim.S.OrigSeen);
        Assert.Equal(before.ReplySeen, sim.S.ReplySeen);
    }

    [Fact]
    public void Sack_RaisesMaxWinBySackedBytesWhenReceiverPermitsSack()
    {
        var sim = Established();
        sim.Reply(new Seg(F.PshAck, IsnB + 1, IsnA + 1, WinB, Payload: 1000));
        sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1, WinA, Sack: [(IsnB + 501, IsnB + 1001)]));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(64256u + 1000, sim.S.OrigMaxWin);
        Assert.Equal(IsnB + 1001 + 64256, sim.S.ReplyMaxEnd);
    }

    [Fact]
    public void Sack_BeyondDataSent_IsInvalidWhenReceiverPermitsSack()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1, WinA, Sack: [(IsnB + 501, IsnB + 1001)])));
        Assert.Equal(InvalidReason.TcpAckOverUpperBound, sim.LastReason);
    }

    [Fact]
    public void Sack_IsNotReadWhenReceiverDidNotPermitSack()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(new Seg(F.SynAck, IsnB, IsnA + 1, 65160, Ws: 7));
        sim.Orig(AckA);
        sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1, WinA, Sack: [(IsnB + 501, IsnB + 1001)]));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
    }

    [Fact]
    public void RstAckWithZeroAck_IsTreatedAsAckingEverything()
    {
        var sim = Established();
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.RstAck, IsnA + 1, 0, 0)));
        Assert.Equal(TcpState.Close, sim.State);
    }

    [Fact]
    public void NewerSynInSynSent_ReinitialisesSender()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Orig(new Seg(F.Syn, 3000, 0, 29200, Ws: 10));
        Assert.Equal(3001u, sim.S.OrigEnd);
        Assert.Equal(29200u, sim.S.OrigMaxWin);
        Assert.Equal(10, sim.S.Scale(0));
        Assert.Equal(TcpSeenFlags.WindowScale, sim.S.OrigFlags);
    }

    [Fact]
    public void OlderSynInSynSent_KeepsSender()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Orig(new Seg(F.Syn, 500, 0, 29200, Ws: 10));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(IsnA + 1, sim.S.OrigEnd);
        Assert.Equal(7, sim.S.Scale(0));
    }

    [Fact]
    public void PickedUpKeepAliveAnswer_AdvancesPeerEnd()
    {
        var sim = new TcpEntrySim();
        sim.Orig(new Seg(F.Ack, 9999, 20_000, 500));   // keep-alive: one byte below the next sequence number
        sim.Reply(new Seg(F.Ack, 20_000, 10_000, 600));
        Assert.Equal(10_000u, sim.S.OrigEnd);
    }

    [Fact]
    public void PickedUpEntry_IsLiberalInBothDirections()
    {
        var sim = new TcpEntrySim();
        sim.Orig(new Seg(F.Ack, 10_000, 20_000, 500));
        sim.Reply(new Seg(F.Ack, 20_000, 10_000, 600));
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.Ack, 20_000 + 50_000_000, 10_000 + 70_000_000, 600)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Ack, unchecked(10_000u - 90_000_000u), 20_000, 500)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
    }
}
