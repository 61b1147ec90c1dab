using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.Tcp.Conn;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>§4.8: timeouts, CLOSE_INIT, SEEN_REPLY/ASSURED results, and the invalid-FIN/RST timeout shortening.</summary>
public class TcpTimeoutTests
{
    [Fact]
    public void FourthIdenticalAck_UsesRetransTimeout300s()
    {
        var sim = Established();               // the handshake ACK is the first of the series
        sim.Orig(AckA);
        sim.Orig(AckA);
        Assert.Equal(432000, sim.RemainingS);
        sim.Orig(AckA);
        Assert.Equal(3, sim.S.Retrans);
        Assert.Equal(300, sim.RemainingS);
    }

    [Fact]
    public void DifferentAckAfterRetransmissions_ResetsCounter()
    {
        var sim = Established();
        for (int i = 0; i < 3; i++) sim.Orig(AckA);
        sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1, WinA + 1));
        Assert.Equal(0, sim.S.Retrans);
        Assert.Equal(432000, sim.RemainingS);
    }

    [Fact]
    public void ZeroWindow_Uses300sUntilWindowOpens()
    {
        var sim = Established();
        sim.Reply(new Seg(F.Ack, IsnB + 1, IsnA + 1, 0));
        Assert.Equal(300, sim.RemainingS);
        sim.Reply(new Seg(F.Ack, IsnB + 1, IsnA + 1, WinB));
        Assert.Equal(432000, sim.RemainingS);
    }

    [Fact]
    public void UnackedDataInFinWait_KeepsShorterStateTimeout()
    {
        // The UNACK rule only lowers timeouts longer than 300 s.
        var sim = Established();
        sim.Reply(new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        Assert.Equal(TcpState.FinWait, sim.State);
        Assert.NotEqual(0, sim.S.ReplyFlags & TcpSeenFlags.DataUnacknowledged);
        Assert.Equal(120, sim.RemainingS);
    }

    [Fact]
    public void FirstFin_SetsCloseInitOnItsSender()
    {
        var sim = Established();
        sim.Reply(new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        Assert.NotEqual(0, sim.S.ReplyFlags & TcpSeenFlags.CloseInit);
        Assert.Equal(0, sim.S.OrigFlags & TcpSeenFlags.CloseInit);
        sim.Orig(new Seg(F.FinAck, IsnA + 1, IsnB + 2, WinA));
        Assert.Equal(TcpState.LastAck, sim.State);
        Assert.Equal(0, sim.S.OrigFlags & TcpSeenFlags.CloseInit);
    }

    [Fact]
    public void RetransmittedSyn_DoesNotAskForTimerRefresh()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Orig(SynA);
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.False(sim.Last.RefreshTimer);
    }

    [Fact]
    public void RetransmittedSynAfterReply_RefreshesTimer()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(new Seg(F.Ack, 123_456, 777_777, 502));   // challenge ACK: SEEN_REPLY, state stays SYN_SENT
        sim.Advance(10_000);
        sim.Orig(SynA);
        Assert.True(sim.Last.RefreshTimer);
        Assert.Equal(120, sim.RemainingS);
    }

    [Fact]
    public void AssuredEntry_IsNotAssuredAgain()
    {
        var sim = Established();
        sim.Orig(new Seg(F.Ack, IsnA + 1, IsnB + 1, WinA + 1));
        Assert.Equal(TcpVerdict.Accept, sim.Last.Verdict);
        Assert.False(sim.Last.SetAssured);
    }

    [Fact]
    public void InvalidFinNotAnsweringFin_IsOnlyRecorded()
    {
        var sim = Established();
        Assert.Equal(CtState.Invalid, sim.Reply(new Seg(F.FinAck, IsnB + 1 + 50_000_000, IsnA + 1, WinB)));
        Assert.False(sim.Last.ShortenTimeout);
        Assert.Equal(TcpPacketKind.Fin, sim.S.LastIndex);
        Assert.Equal(1, sim.S.LastDir);
        Assert.Equal(432000, sim.RemainingS);
    }

    [Fact]
    public void InvalidRstAnsweringInvalidFin_ShortensTimeoutTo300s()
    {
        var sim = Established();
        sim.Reply(new Seg(F.FinAck, IsnB + 1 + 50_000_000, IsnA + 1, WinB));
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.Rst, IsnA + 1 + 50_000_000, 0, 0)));
        Assert.True(sim.Last.ShortenTimeout);
        Assert.Equal(300, sim.RemainingS);
        Assert.Equal(TcpState.Established, sim.State);
    }

    [Fact]
    public void InvalidRstAnsweringInvalidFin_WithUnder120sLeft_ChangesNothing()
    {
        var sim = Established();
        sim.Advance((432000 - 119) * 1000L);
        sim.Reply(new Seg(F.FinAck, IsnB + 1 + 50_000_000, IsnA + 1, WinB));
        sim.Orig(new Seg(F.Rst, IsnA + 1 + 50_000_000, 0, 0));
        Assert.Equal(TcpVerdict.Invalid, sim.Last.Verdict);
        Assert.False(sim.Last.ShortenTimeout);
        Assert.Equal(119, sim.RemainingS);
    }

    [Fact]
    public void InvalidFinOnUnassuredEntry_IsNotRecorded()
    {
        var sim = new TcpEntrySim();
        sim.Orig(SynA);
        sim.Reply(SynAckB);
        var lastInfo = sim.S.LastInfo;
        Assert.Equal(CtState.Invalid, sim.Orig(new Seg(F.FinAck, IsnA + 1 + 50_000_000, IsnB + 1, WinA)));
        Assert.Equal(lastInfo, sim.S.LastInfo);
    }

    // ---- the packed state itself ----

    [Fact]
    public void TcpConnState_Is52Bytes()
    {
        Assert.Equal(52, Unsafe.SizeOf<TcpConnState>());
        Assert.Equal(52, Marshal.SizeOf<TcpConnState>());
    }

    [Fact]
    public void PackedFields_DoNotDisturbEachOther()
    {
        var s = default(TcpConnState);
        s.LastIndex = TcpPacketKind.None;
        s.LastDir = 1;
        s.LastWscale = 14;
        s.SetScale(0, 14);
        s.SetScale(1, 7);
        Assert.Equal(TcpPacketKind.None, s.LastIndex);
        Assert.Equal(1, s.LastDir);
        Assert.Equal(14, s.LastWscale);
        Assert.Equal(14, s.Scale(0));
        Assert.Equal(7, s.Scale(1));
        s.LastIndex = TcpPacketKind.Syn;
        s.LastDir = 0;
        Assert.Equal(14, s.LastWscale);
        s.ReplySeen.MaxAck = 0xdeadbeef;
        Assert.Equal(0xdeadbeefu, s.ReplyMaxAck);
    }
}
