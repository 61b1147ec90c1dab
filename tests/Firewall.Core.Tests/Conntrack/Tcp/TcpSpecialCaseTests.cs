using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.Tcp.Conn;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>§4.7: reopen, ignore/resync, challenge ACKs, simultaneous open and RST handling.</summary>
public class TcpSpecialCaseTests
{
    private const uint NewIsnA = 9_000_000;
    private static Seg NewSynA => new(F.Syn, NewIsnA, 0, 29200, Ws: 9, SackPerm: true);

    /// <summary>Established, then a RST from <paramref name="dir"/> with the exact expected sequence: CLOSE.</summary>
    private static TcpEntrySim ClosedByRstFrom(CtDirection dir)
    {
        var sim = Established();
        if (dir == CtDirection.Original) sim.Orig(new Seg(F.Rst, IsnA + 1, 0, 0));
        else sim.Reply(new Seg(F.Rst, IsnB + 1, 0, 0));
        Assert.Equal(TcpState.Close, sim.State);
        return sim;
    }

    // ---- 4.7.1 reopen ----

    [Fact]
    public void SynAfterOwnRst_ReopensAsNew()
    {
        var sim = ClosedByRstFrom(CtDirection.Original);
        Assert.Equal(CtState.New, sim.Orig(NewSynA));
        Assert.Equal(1, sim.Destroyed);
        Assert.Equal(TcpState.SynSent, sim.State);
        Assert.Equal(NewIsnA + 1, sim.S.OrigEnd);
    }

    [Fact]
    public void SynAfterPeerRst_IsIgnored()
    {
        var sim = ClosedByRstFrom(CtDirection.Reply);
        Assert.Equal(CtState.Established, sim.Orig(NewSynA));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.Equal(0, sim.Destroyed);
        Assert.Equal(TcpState.Close, sim.State);
    }

    [Fact]
    public void ServerSynInTimeWait_Reopens()
    {
        var sim = Established();
        sim.Reply(new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        sim.Orig(new Seg(F.FinAck, IsnA + 1, IsnB + 2, WinA));
        sim.Reply(new Seg(F.Ack, IsnB + 2, IsnA + 2, WinB));
        Assert.Equal(TcpState.TimeWait, sim.State);
        var s = sim.S;
        var p = new Seg(F.Syn, 6_000_000, 0, 29200).Parse();
        var r = TcpTracker.Packet(ref s, TcpState.TimeWait, sim.Status, CtDirection.Reply, ref p, sim.Settings, 100_000);
        Assert.Equal(TcpVerdict.Reopen, r.Verdict);
    }

    // ---- 4.7.2 ignore and resynchronisation ----

    [Fact]
    public void IgnoredSyn_IsRememberedWithItsOptions()
    {
        var sim = Established();
        sim.Orig(NewSynA);
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.Equal(TcpPacketKind.Syn, sim.S.LastIndex);
        Assert.Equal(0, sim.S.LastDir);
        Assert.Equal(NewIsnA, sim.S.LastSeq);
        Assert.Equal(NewIsnA + 1, sim.S.LastEnd);
        Assert.Equal((ushort)29200, sim.S.LastWin);
        Assert.Equal(9, sim.S.LastWscale);
        Assert.Equal(TcpSeenFlags.WindowScale | TcpSeenFlags.SackPerm, sim.S.LastFlags);
    }

    [Fact]
    public void SynAckAnsweringIgnoredSyn_ResynchronisesToSynRecv()
    {
        var sim = ClosedByRstFrom(CtDirection.Reply);
        sim.Orig(NewSynA);
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.SynAck, 8_000_000, NewIsnA + 1, 28960, Ws: 8, SackPerm: true)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(TcpState.SynRecv, sim.State);
        Assert.Equal(NewIsnA + 1, sim.S.OrigEnd);
        Assert.Equal(29200u, sim.S.OrigMaxWin);
        Assert.Equal(9, sim.S.Scale(0));
        Assert.Equal(8_000_001u, sim.S.ReplyEnd);
        Assert.Equal(8, sim.S.Scale(1));

        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Ack, NewIsnA + 1, 8_000_001, 229)));
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void SynAckNotAnsweringIgnoredSyn_IsIgnored()
    {
        var sim = ClosedByRstFrom(CtDirection.Reply);
        sim.Orig(NewSynA);
        sim.Reply(new Seg(F.SynAck, 8_000_000, NewIsnA + 2, 28960));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.Equal(TcpState.Close, sim.State);
    }

    [Fact]
    public void ReplyAckInSynSent_IsIgnoredButSetsSeenReply()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(new Seg(F.Ack, 123_456, 777_777, 502));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.True(sim.SeenReply);
        Assert.Equal(777_777u, sim.S.LastAck);
        Assert.Equal(CtState.Established, sim.Orig(SynA));   // later client packets are ESTABLISHED
    }

    // ---- 4.7.3 other special cases ----

    [Fact]
    public void ChallengeAckInLastAck_KeepsLastAck()
    {
        var sim = Established();
        sim.Reply(new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        sim.Orig(new Seg(F.FinAck, IsnA + 1, IsnB + 2, WinA));
        Assert.Equal(TcpState.LastAck, sim.State);
        sim.Orig(NewSynA);
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.NotEqual(0, sim.S.LastFlags & TcpSeenFlags.ExpChallengeAck);

        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.Ack, IsnB + 2, IsnA + 2, WinB)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(TcpState.LastAck, sim.State);
        Assert.Equal(0, sim.S.LastFlags & TcpSeenFlags.ExpChallengeAck);

        sim.Reply(new Seg(F.Ack, IsnB + 2, IsnA + 2, WinB));
        Assert.Equal(TcpState.TimeWait, sim.State);
    }

    [Fact]
    public void SimultaneousOpen_GoesThroughSynSent2AndEstablishesOnReplyAck()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(new Seg(F.Syn, IsnB, 0, 65160, Ws: 7, SackPerm: true));
        Assert.Equal(TcpState.SynSent2, sim.State);
        Assert.NotEqual(0, sim.S.LastFlags & TcpSeenFlags.SimultaneousOpen);
        sim.Orig(new Seg(F.SynAck, IsnA, IsnB + 1, 64240, Ws: 7, SackPerm: true));
        Assert.Equal(TcpState.SynRecv, sim.State);
        sim.Reply(new Seg(F.SynAck, IsnB, IsnA + 1, 65160, Ws: 7, SackPerm: true));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        sim.Reply(new Seg(F.Ack, IsnB + 1, IsnA + 1, WinB));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.True(sim.Last.SetAssured);
    }

    [Fact]
    public void ReplyAckInSynRecvWithoutSimultaneousOpen_StaysSynRecv()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(SynAckB);
        sim.Reply(new Seg(F.Ack, IsnB + 1, IsnA + 1, WinB));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(TcpState.SynRecv, sim.State);
    }

    // ---- 4.7.4 RST handling ----

    [Fact]
    public void RstBelowPeerMaxAck_IsInvalid()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Rst, IsnA, 0, 0)));
        Assert.Equal(InvalidReason.TcpInvalidRst, sim.LastReason);
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void RstBelowPeerMaxAck_WithIgnoreInvalidRst_KeepsEstablished()
    {
        var sim = Established(With(o => o.TcpIgnoreInvalidRst = true));
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, IsnA, 0, 0)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void RstRightAfterOwnData_ClosesAsRstTrain()
    {
        var sim = Established();
        sim.Orig(new Seg(F.PshAck, IsnA + 1, IsnB + 1, WinA, Payload: 100));
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, IsnA + 101, 0, 0)));
        Assert.Equal(TcpState.Close, sim.State);
    }

    [Fact]
    public void RstInClosingState_IsAcceptedWithoutWindowCheck()
    {
        var sim = Established();
        sim.Reply(new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        Assert.Equal(TcpState.FinWait, sim.State);
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, IsnA + 1 + 50_000_000, 0, 0)));
        Assert.Equal(TcpState.Close, sim.State);
        Assert.Equal(10, sim.RemainingS);
    }

    [Fact]
    public void RstAnsweringIgnoredSyn_IsAcceptedWithoutWindowCheck()
    {
        var sim = Established();
        sim.Orig(NewSynA);
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.RstAck, 0, NewIsnA + 1, 0)));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.Equal(TcpState.Close, sim.State);
    }

    [Fact]
    public void RstFromClientInSynSentWithoutReply_DeletesEntry()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        Assert.Equal(CtState.New, sim.Orig(new Seg(F.Rst, IsnA + 1, 0, 0)));
        Assert.True(sim.Last.DeleteEntry);
        Assert.False(sim.Exists);
    }

    [Fact]
    public void RstAckingUnsentDataAnsweringSyn_IsInvalid()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        // (ISN + 2 would still pass: the kernel's keep-alive rule bumps A.end by one for a first packet from B.)
        Assert.Equal(CtState.Invalid, sim.Reply(new Seg(F.RstAck, 0, IsnA + 3, 0)));
        Assert.Equal(InvalidReason.TcpAckOverUpperBound, sim.LastReason);
        Assert.True(sim.Exists);
    }
}
