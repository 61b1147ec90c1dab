using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.Tcp.Conn;

namespace Firewall.Core.Tests.Conntrack;

/// <summary>TCP through the real table (lookup, commit, timers, deletion, reopen), not the tracker alone.</summary>
public class ConntrackTcpTableTests
{
    private const long S = 1_000_000_000L;
    private static readonly IpAddr A = TestPackets.V4("198.18.0.1"), B = TestPackets.V4("198.18.0.2");
    private readonly ConntrackTable _t = new(new ConntrackOptions { Max = 64 });
    private readonly ConntrackWorker _w;
    private long _now = 1000 * S;

    public ConntrackTcpTableTests() { _w = _t.CreateWorker(); _t.EventsEnabled = true; }

    private TrackResult Send(bool fromA, Seg seg, bool accept = true)
    {
        var p = seg.Parse();
        p.Src = fromA ? A : B;
        p.Dst = fromA ? B : A;
        p.SrcPort = fromA ? (ushort)42001 : (ushort)8080;
        p.DstPort = fromA ? (ushort)8080 : (ushort)42001;
        var r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
        if (r.IsNew) { if (accept) _w.Confirm(ref r); else _w.Release(ref r); }
        return r;
    }

    private ConntrackEntrySnapshot Only() => Assert.Single(_t.Snapshot(_now));

    [Fact]
    public void Handshake_NewThenEstablished_AssuredOnThirdPacket()
    {
        var syn = Send(true, SynA);
        Assert.Equal(CtState.New, syn.State);
        Assert.Equal(TcpState.SynSent, Only().TcpState);
        Assert.Equal(120u, Only().RemainingMs / 1000);

        var synAck = Send(false, SynAckB);
        Assert.Equal(CtState.Established, synAck.State);
        Assert.Equal(CtDirection.Reply, synAck.Direction);
        Assert.Equal(TcpState.SynRecv, synAck.TcpState);
        Assert.True(synAck.Status.HasFlag(CtStatus.SeenReply));

        var ack = Send(true, AckA);
        Assert.Equal(CtState.Established, ack.State);
        Assert.Equal(TcpState.Established, ack.TcpState);
        Assert.True(ack.Status.HasFlag(CtStatus.Assured));
        Assert.Equal(432000u, Only().RemainingMs / 1000);
    }

    [Fact]
    public void RetransmittedSyn_IsNew_AndDoesNotRefreshTimer()
    {
        Send(true, SynA);
        _now += 50 * S;
        var again = Send(true, SynA);
        Assert.Equal(CtState.New, again.State);
        Assert.Equal(70u, Only().RemainingMs / 1000);
    }

    [Fact]
    public void RstAnsweringSyn_IsEstablished_AndDeletesEntry()
    {
        Send(true, SynA);
        var rst = Send(false, new Seg(F.RstAck, 0, IsnA + 1, 0));
        Assert.Equal(CtState.Established, rst.State);
        Assert.Equal(0, _t.Count);
        Assert.Empty(_t.Snapshot(_now));
    }

    [Fact]
    public void BareAck_WithoutEntry_IsNew_PickedUpWith300s()
    {
        var r = Send(true, new Seg(F.Ack, 777, 888, 500));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(TcpState.Established, Only().TcpState);
        Assert.True(Only().RemainingMs <= 300_000);
    }

    [Fact]
    public void BareAck_WithLooseOff_IsInvalid()
    {
        var t = new ConntrackTable(new ConntrackOptions { Max = 8, TcpLoose = false });
        var w = t.CreateWorker();
        var p = new Seg(F.Ack, 777, 888, 500).Parse();
        p.Src = A; p.Dst = B; p.SrcPort = 1; p.DstPort = 2;
        var r = w.Track(ref p, S, TrackOptions.LocallyGenerated);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void SynAckWithoutEntry_IsInvalid()
    {
        var r = Send(false, SynAckB);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(InvalidReason.TcpInvalidNew, r.Reason);
    }

    [Fact]
    public void ClientSynAckInEstablished_IsInvalid_EntryUnchanged()
    {
        Send(true, SynA); Send(false, SynAckB); Send(true, AckA);
        var r = Send(true, new Seg(F.SynAck, IsnA + 1, IsnB + 1, WinA));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(TcpState.Established, Only().TcpState);
    }

    [Fact]
    public void SynReusingTimeWaitTuple_DestroysOldEntry_AndIsNew()
    {
        Send(true, SynA); Send(false, SynAckB); Send(true, AckA);
        Send(false, new Seg(F.FinAck, IsnB + 1, IsnA + 1, WinB));
        Send(true, new Seg(F.Ack, IsnA + 1, IsnB + 2, WinA));
        Send(true, new Seg(F.FinAck, IsnA + 1, IsnB + 2, WinA));
        var last = Send(false, new Seg(F.Ack, IsnB + 2, IsnA + 2, WinB));
        Assert.Equal(TcpState.TimeWait, last.TcpState);
        _t.DrainEvents(new List<CtEvent>());

        var syn = Send(true, new Seg(F.Syn, IsnA + 100_000, 0, 64240, Ws: 7, SackPerm: true));
        Assert.Equal(CtState.New, syn.State);
        Assert.True(syn.IsNew || _t.Count == 1);
        var ev = new List<CtEvent>();
        _t.DrainEvents(ev);
        Assert.Equal(CtEventType.Destroy, ev[0].Type);
        Assert.Equal(TcpState.TimeWait, ev[0].TcpState);
        Assert.Equal(CtEventType.New, ev[1].Type);
        Assert.Equal(TcpState.SynSent, Only().TcpState);
    }

    [Fact]
    public void DroppedSyn_LeavesNoEntry_NextSynIsNewAgain()
    {
        Send(true, SynA, accept: false);
        Assert.Equal(0, _t.Count);
        var r = Send(true, SynA);
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(1, _t.Count);
    }

    [Fact]
    public void InvalidFlags_AreInvalid_WithoutEntry()
    {
        foreach (byte flags in new byte[] { 0, F.Fin, F.Syn | F.Fin, F.Fin | F.Psh | F.Urg, F.Rst, F.RstAck, F.FinAck })
        {
            var r = Send(true, new Seg(flags, 1, 1));
            Assert.Equal(CtState.Invalid, r.State);
        }
        Assert.Equal(0, _t.Count);
    }

    [Fact]
    public void Ipv6Tcp_HandshakeThroughTable()
    {
        IpAddr.TryParse("2001:db8::1", out var a6, out _);
        IpAddr.TryParse("2001:db8::2", out var b6, out _);
        TrackResult Go(bool fromA, Seg seg)
        {
            var p = seg.Parse();
            p.IpVersion = 6;
            p.Src = fromA ? a6 : b6; p.Dst = fromA ? b6 : a6;
            p.SrcPort = fromA ? (ushort)5555 : (ushort)22; p.DstPort = fromA ? (ushort)22 : (ushort)5555;
            var r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
            if (r.IsNew) _w.Confirm(ref r);
            return r;
        }
        Assert.Equal(CtState.New, Go(true, SynA).State);
        Assert.Equal(CtState.Established, Go(false, SynAckB).State);
        Assert.True(Go(true, AckA).Status.HasFlag(CtStatus.Assured));
        Assert.True(Only().Orig.IsV6);
    }
}
