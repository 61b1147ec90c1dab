using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.Tcp.Conn;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>conntrack-reference.md §14.2, rows 1–24 (TCP), driven through the tracker by <see cref="TcpEntrySim"/>.</summary>
public class TcpScenarioMatrixTests
{
    private static readonly ConntrackSettings Defaults = ConntrackSettings.Default;

    [Fact]
    public void Row01_Syn_IsNew_SynSent120sUnreplied()
    {
        var sim = new TcpEntrySim();
        Assert.Equal(CtState.New, sim.Orig(SynA));
        Assert.Equal(TcpState.SynSent, sim.State);
        Assert.Equal(120, sim.RemainingS);
        Assert.False(sim.SeenReply);
    }

    [Fact]
    public void Row02_SameSynAgain_IsNew_TimerNotRefreshed()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Advance(30_000);
        Assert.Equal(CtState.New, sim.Orig(SynA));
        Assert.Equal(TcpState.SynSent, sim.State);
        Assert.Equal(90, sim.RemainingS);
    }

    [Fact]
    public void Row03_SynAck_IsEstablished_SynRecv60sSeenReply()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        Assert.Equal(CtState.Established, sim.Reply(SynAckB));
        Assert.Equal(TcpState.SynRecv, sim.State);
        Assert.Equal(60, sim.RemainingS);
        Assert.True(sim.SeenReply);
        Assert.False(sim.Assured);
    }

    [Fact]
    public void Row04_HandshakeAck_IsEstablished_432000sAssured()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(SynAckB);
        Assert.Equal(CtState.Established, sim.Orig(AckA));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(432000, sim.RemainingS);
        Assert.True(sim.Assured);
    }

    [Fact]
    public void Row05_Data_Uses300sWhileUnacked()
    {
        var sim = Established();
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.PshAck, IsnA + 1, IsnB + 1, WinA, Payload: 100)));
        Assert.Equal(300, sim.RemainingS);
    }

    [Fact]
    public void Row06_AllDataAcked_BackTo432000()
    {
        var sim = Established();
        sim.Orig(new Seg(F.PshAck, IsnA + 1, IsnB + 1, WinA, Payload: 100));
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.PshAck, IsnB + 1, IsnA + 101, WinB, Payload: 100)));
        Assert.Equal(300, sim.RemainingS);   // B's 100 bytes are not acknowledged yet
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Ack, IsnA + 101, IsnB + 101, WinA)));
        Assert.Equal(432000, sim.RemainingS);
    }

    [Fact]
    public void Row07_Data10MBBeyondWindow_IsInvalid_Unchanged()
    {
        var sim = Established();
        var before = sim.S;
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.PshAck, IsnA + 1 + 10_000_000, IsnB + 1, WinA, Payload: 100)));
        Assert.Equal(InvalidReason.TcpSeqOverUpperBound, sim.LastReason);
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(432000, sim.RemainingS);
        Assert.Equal(before.OrigSeen, sim.S.OrigSeen);
        Assert.Equal(before.ReplySeen, sim.S.ReplySeen);
    }

    [Fact]
    public void Row08_AckFor500KBNeverSent_IsInvalid_Unchanged()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1 + 500_000, WinA)));
        Assert.Equal(InvalidReason.TcpAckOverUpperBound, sim.LastReason);
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(432000, sim.RemainingS);
    }

    [Fact]
    public void Row09_Data200KBBelowWindow_IsEstablishedIgnored_Unchanged()
    {
        var sim = Established();
        sim.Advance(1000);
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.PshAck, unchecked(IsnA + 1 - 200_000), IsnB + 1, WinA, Payload: 100)));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(431999, sim.RemainingS);
    }

    [Fact]
    public void Row10_SynWithNewIsn_IsEstablishedIgnored_Unchanged()
    {
        var sim = Established();
        sim.Advance(1000);
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Syn, 9_000_000, 0, 64240, Ws: 7, SackPerm: true)));
        Assert.Equal(TcpVerdict.Ignore, sim.Last.Verdict);
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(431999, sim.RemainingS);
    }

    [Fact]
    public void Row11_SynAckFromClient_IsInvalid()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.SynAck, IsnA, IsnB + 1, WinA)));
        Assert.Equal(InvalidReason.TcpInvalidState, sim.LastReason);
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void Row12_SynFromServer_IsInvalid()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Reply(new Seg(F.Syn, IsnB, 0, WinB)));
        Assert.Equal(InvalidReason.TcpInvalidState, sim.LastReason);
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void Row13_RstFarBeyondWindow_IsInvalid()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Rst, IsnA + 1 + 10_000_000, 0, 0)));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(432000, sim.RemainingS);
    }

    [Fact]
    public void Row14_RstWithExactSeq_ClosesWith10s()
    {
        var sim = Established();
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, IsnA + 1, 0, 0)));
        Assert.Equal(TcpState.Close, sim.State);
        Assert.Equal(10, sim.RemainingS);
    }

    [Fact]
    public void Row15_RstInWindowNotExact_StaysEstablished10s_On618()
    {
        var sim = Established();
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, IsnA + 1 + 1000, 0, 0)));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(10, sim.RemainingS);
    }

    [Fact]
    public void Row15_RstInWindowNotExact_StaysEstablished300s_On612117()
    {
        var sim = Established(With(o => o.TcpRstUnackTimeout = true));
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, IsnA + 1 + 1000, 0, 0)));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(300, sim.RemainingS);
    }

    [Fact]
    public void Row16_RstAckAnsweringSyn_IsEstablished_EntryDeleted()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.RstAck, 0, IsnA + 1, 0)));
        Assert.False(sim.Exists);
        Assert.Equal(1, sim.Destroyed);
    }

    [Fact]
    public void Row17_ChallengeAckThenRstWithItsAck_KeepsSynSentThenCloses()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        const uint challengeAck = 777_777;
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.Ack, 123_456, challengeAck, 502)));
        Assert.Equal(TcpState.SynSent, sim.State);
        Assert.True(sim.SeenReply);
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Rst, challengeAck, 0, 0)));
        Assert.Equal(TcpState.Close, sim.State);
        Assert.Equal(10, sim.RemainingS);
        Assert.True(sim.Exists);
    }

    [Fact]
    public void Row18_LooseAckWithoutEntry_IsNew_Established300sUnreplied()
    {
        var sim = new TcpEntrySim();
        Assert.Equal(CtState.New, sim.Orig(new Seg(F.Ack, 10_000, 20_000, 500)));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(300, sim.RemainingS);
        Assert.False(sim.SeenReply);
    }

    [Fact]
    public void Row19_ReplyToPickUp_IsEstablished_300sSeenReplyNotAssured()
    {
        var sim = new TcpEntrySim();
        sim.Orig(new Seg(F.Ack, 10_000, 20_000, 500));
        Assert.Equal(CtState.Established, sim.Reply(new Seg(F.Ack, 20_000, 10_000, 600)));
        Assert.Equal(TcpState.Established, sim.State);
        Assert.Equal(300, sim.RemainingS);
        Assert.True(sim.SeenReply);
        Assert.False(sim.Assured);
    }

    [Fact]
    public void Row20_NextPacketAfterPickUpReply_432000sAssured()
    {
        var sim = new TcpEntrySim();
        sim.Orig(new Seg(F.Ack, 10_000, 20_000, 500));
        sim.Reply(new Seg(F.Ack, 20_000, 10_000, 600));
        Assert.Equal(CtState.Established, sim.Orig(new Seg(F.Ack, 10_000, 20_000, 500)));
        Assert.Equal(432000, sim.RemainingS);
        Assert.True(sim.Assured);
    }

    [Fact]
    public void Row21_AckWithoutEntryAndLoose0_IsInvalid_NoEntry()
    {
        var sim = new TcpEntrySim(With(o => o.TcpLoose = false));
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Ack, 10_000, 20_000, 500)));
        Assert.Equal(InvalidReason.TcpInvalidNew, sim.LastReason);
        Assert.False(sim.Exists);
    }

    [Theory]
    [InlineData(F.Rst, InvalidReason.TcpInvalidNew)]
    [InlineData(F.RstAck, InvalidReason.TcpInvalidNew)]
    [InlineData(F.SynAck, InvalidReason.TcpInvalidNew)]
    [InlineData(F.FinAck, InvalidReason.TcpInvalidNew)]
    [InlineData(F.Fin, InvalidReason.TcpBadFlags)]
    [InlineData(F.Syn | F.Fin, InvalidReason.TcpBadFlags)]
    [InlineData(0, InvalidReason.TcpBadFlags)]
    [InlineData(F.Fin | F.Psh | F.Urg, InvalidReason.TcpBadFlags)]
    public void Row22_NonCreatingPacketsWithoutEntry_AreInvalid(byte flags, InvalidReason reason)
    {
        var sim = new TcpEntrySim();
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(flags, 10_000, 20_000, 500)));
        Assert.Equal(reason, sim.LastReason);
        Assert.False(sim.Exists);
    }

    [Theory]
    [InlineData(F.Syn | F.Ece)]
    [InlineData(F.Syn | F.Ece | F.Cwr)]
    public void Row23_SynWithEcnFlags_IsNew_SynSent(byte flags)
    {
        var sim = new TcpEntrySim();
        Assert.Equal(CtState.New, sim.Orig(new Seg(flags, IsnA, 0, 64240)));
        Assert.Equal(TcpState.SynSent, sim.State);
    }

    [Fact]
    public void Row24_SynAfterFullClose_IsNew_OldDestroyed_NewSynSent()
    {
        var sim = Established(Defaults);
        sim.Reply(new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        Assert.Equal(TcpState.FinWait, sim.State);
        sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 2, WinA));
        Assert.Equal(TcpState.CloseWait, sim.State);
        sim.Orig(new Seg(F.FinAck, IsnA + 1, IsnB + 2, WinA));
        Assert.Equal(TcpState.LastAck, sim.State);
        sim.Reply(new Seg(F.Ack, IsnB + 2, IsnA + 2, WinB));
        Assert.Equal(TcpState.TimeWait, sim.State);
        Assert.Equal(120, sim.RemainingS);

        Assert.Equal(CtState.New, sim.Orig(new Seg(F.Syn, 7_000_000, 0, 64240)));
        Assert.Equal(1, sim.Destroyed);
        Assert.Equal(TcpState.SynSent, sim.State);
        Assert.False(sim.SeenReply);
        Assert.False(sim.Assured);
    }
}
