using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using static Firewall.Core.Tests.Conntrack.Sctp.SctpKit;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>
/// A whole association, ASSURED, per-state timeouts on the injected clock, expiry and the listing text, against what
/// the 6.18.44 kernel showed for the same sequence in a router namespace (conntrack -L after every packet).
/// </summary>
public class SctpLifecycleTests
{
    [Fact]
    public void FullAssociation_FollowsTheKernelsStatesAndCtstates()
    {
        // kernel (FORWARD ctstate, then the entry): INIT NEW CLOSED 9 [UNREPLIED]; INIT again NEW CLOSED;
        // INIT ACK ESTABLISHED COOKIE_WAIT 2; COOKIE ECHO ESTABLISHED COOKIE_ECHOED 2; COOKIE ACK ESTABLISHED
        // ESTABLISHED 209 [ASSURED]; DATA / SACK ESTABLISHED; SHUTDOWN SHUTDOWN_SENT 2; SHUTDOWN ACK SHUTDOWN_ACK_SENT 2;
        // SHUTDOWN COMPLETE CLOSED 9; DATA after that ESTABLISHED, still CLOSED
        var k = new SctpKit();
        var steps = new (Func<TrackResult> Send, CtState Ct, SctpState State, uint Seconds)[]
        {
            (k.SendInit, CtState.New, SctpState.Closed, 10),
            (k.SendInit, CtState.New, SctpState.Closed, 10),
            (k.SendInitAck, CtState.Established, SctpState.CookieWait, 3),
            (k.SendCookieEcho, CtState.Established, SctpState.CookieEchoed, 3),
            (k.SendCookieAck, CtState.Established, SctpState.Established, 210),
            (() => k.Orig(TB, DataChunk()), CtState.Established, SctpState.Established, 210),
            (() => k.Reply(TA, AnyChunk(Sack)), CtState.Established, SctpState.Established, 210),
            (() => k.Orig(TB, AnyChunk(Shutdown)), CtState.Established, SctpState.ShutdownSent, 3),
            (() => k.Reply(TA, AnyChunk(ShutdownAck)), CtState.Established, SctpState.ShutdownAckSent, 3),
            (() => k.Orig(TB, AnyChunk(ShutdownComplete)), CtState.Established, SctpState.Closed, 10),
            (() => k.Orig(TB, DataChunk()), CtState.Established, SctpState.Closed, 10),
        };
        foreach (var (send, ct, state, seconds) in steps)
        {
            var r = send();
            Assert.Equal(ct, r.State);
            Assert.Equal((byte)state, r.ProtoState);
            Assert.Equal(TcpState.None, r.TcpState);
            Assert.Equal(state, k.State);
            Assert.Equal(seconds, k.RemainingS);
        }
    }

    [Fact]
    public void CookieAck_SetsAssured_AndEarlierStatesDoNot()
    {
        var k = new SctpKit().Reach(SctpState.CookieEchoed);
        Assert.Equal(CtStatus.None, k.Entry.Status & CtStatus.Assured);
        var r = k.SendCookieAck();
        Assert.Equal(CtStatus.Assured, r.Status & CtStatus.Assured);
        Assert.Equal(CtStatus.Assured, k.Entry.Status & CtStatus.Assured);
    }

    [Fact]
    public void AssuredStays_AfterLeavingEstablished()
    {
        var k = new SctpKit().Reach(SctpState.ShutdownAckSent);
        Assert.Equal(CtStatus.Assured, k.Entry.Status & CtStatus.Assured);
    }

    [Fact]
    public void InitRetransmission_InClosed_DoesNotRefreshTimer()
    {
        // kernel: "don't renew timeout on init retransmit" — the second INIT is NEW, the timer keeps running
        var k = new SctpKit().Reach(SctpState.Closed);
        k.Advance(4);
        Assert.Equal(CtState.New, k.SendInit().State);
        Assert.Equal(6u, k.RemainingS);
    }

    [Fact]
    public void InitRetransmission_ExpiresAfterTenSecondsFromTheFirst()
    {
        var k = new SctpKit().Reach(SctpState.Closed);
        for (int i = 0; i < 4; i++) { k.Advance(2.4); k.SendInit(); }
        k.Advance(0.5); // 10.1 s after the first INIT
        Assert.True(k.Empty);
    }

    [Fact]
    public void InitAfterShutdownComplete_IsIgnoredInClosed()
    {
        // kernel: INIT a->b reusing the ports of a CLOSED (confirmed, ASSURED) entry → ESTABLISHED, CLOSED, not refreshed
        var k = new SctpKit().Reach(SctpState.ShutdownAckSent);
        k.Orig(TB, AnyChunk(ShutdownComplete));
        k.Advance(3);
        var r = k.Orig(0, InitChunk(0x12));
        Assert.Equal(CtState.Established, r.State);
        Assert.Equal(SctpState.Closed, k.State);
        Assert.Equal(7u, k.RemainingS);
    }

    [Theory]
    [InlineData(SctpState.Closed, 10)]
    [InlineData(SctpState.CookieWait, 3)]
    [InlineData(SctpState.CookieEchoed, 3)]
    [InlineData(SctpState.Established, 210)]
    [InlineData(SctpState.ShutdownSent, 3)]
    [InlineData(SctpState.ShutdownRecd, 3)]
    [InlineData(SctpState.ShutdownAckSent, 3)]
    [InlineData(SctpState.HeartbeatSent, 30)]
    public void StateTimeout_IsTheKernelDefault_AndTheEntryExpiresThen(SctpState state, int seconds)
    {
        // net.netfilter.nf_conntrack_sctp_timeout_* read in a fresh namespace on 6.18.44: closed 10, cookie_wait 3,
        // cookie_echoed 3, established 210, shutdown_sent 3, shutdown_recd 3, shutdown_ack_sent 3, heartbeat_sent 30
        var k = new SctpKit().Reach(state);
        Assert.Equal((uint)seconds * 1000, k.Entry.RemainingMs);
        k.Advance(seconds - 0.01);
        Assert.False(k.Empty);
        k.Advance(0.02);
        Assert.True(k.Empty);
        // the wheel re-files lazily: an entry whose deadline was shortened (CLOSED 10 s → 3 s) is reaped by the
        // slot of its older deadline; lookups and listings ignore it from the real deadline on
        k.W.Maintain(k.Now + 11 * S);
        Assert.Equal(0, k.Table.Count);
    }

    [Fact]
    public void ConfiguredTimeouts_AreUsedPerState()
    {
        var k = new SctpKit(o => { o.Timeouts.SctpEstablished = 77; o.Timeouts.SctpCookieWait = 5; o.Timeouts.SctpClosed = 12; });
        k.SendInit();
        Assert.Equal(12u, k.RemainingS);
        k.SendInitAck();
        Assert.Equal(5u, k.RemainingS);
        k.SendCookieEcho();
        k.SendCookieAck();
        Assert.Equal(77u, k.RemainingS);
    }

    [Fact]
    public void ExpiredAssociation_NextInitIsNewAgain()
    {
        var k = new SctpKit().Reach(SctpState.Established);
        k.Advance(211);
        var r = k.SendInit();
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void PacketInEstablished_RefreshesTo210s()
    {
        var k = new SctpKit().Reach(SctpState.Established);
        k.Advance(200);
        k.Reply(TA, AnyChunk(Sack));
        Assert.Equal(210u, k.RemainingS);
    }

    [Fact]
    public void Ipv6Association_IsTrackedTheSameWay()
    {
        // kernel: IPv6 INIT → NEW CLOSED; INIT with a bad CRC → INVALID
        var k = new SctpKit(v6: true).Reach(SctpState.Established);
        Assert.Equal(CtStatus.Assured, k.Entry.Status & CtStatus.Assured);
        Assert.Equal(CtState.Invalid, k.Send(k.Frame(CtDirection.Original, TB, [DataChunk()], crc: 1)).State);
    }

    [Fact]
    public void Listing_ShowsTheStateName_LikeConntrackL()
    {
        // kernel: "sctp     132 9 CLOSED src=198.18.1.2 dst=198.18.2.2 sport=1000 dport=2000 [UNREPLIED] src=198.18.2.2
        //          dst=198.18.1.2 sport=2000 dport=1000 mark=0 use=1"
        var k = new SctpKit().Reach(SctpState.Closed);
        k.Advance(0.5);
        Assert.Equal("sctp     132 9 CLOSED src=198.18.0.1 dst=198.18.0.2 sport=1000 dport=2000 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2000 dport=1000 mark=0 use=1",
            ConntrackFormatter.ListLine(k.Entry));
    }

    [Fact]
    public void ProcLine_ShowsTheStateName_AndAssured()
    {
        // kernel /proc: "ipv4     2 sctp     132 9 CLOSED src=… sport=1000 dport=2000 src=… [ASSURED] mark=0 zone=0 use=2"
        var k = new SctpKit().Reach(SctpState.ShutdownAckSent);
        k.Orig(TB, AnyChunk(ShutdownComplete));
        k.Advance(0.5);
        Assert.Equal("ipv4     2 sctp     132 9 CLOSED src=198.18.0.1 dst=198.18.0.2 sport=1000 dport=2000 src=198.18.0.2 dst=198.18.0.1 sport=2000 dport=1000 [ASSURED] mark=0 zone=0 use=2",
            ConntrackFormatter.ProcLine(k.Entry));
    }

    [Fact]
    public void ProtoStateName_NamesSctpStates()
    {
        Assert.Equal("SHUTDOWN_ACK_SENT", ConntrackFormatter.ProtoStateName(132, (byte)SctpState.ShutdownAckSent));
        Assert.Equal("HEARTBEAT_SENT", ConntrackFormatter.ProtoStateName(132, (byte)SctpState.HeartbeatSent));
        Assert.Equal("SYN_SENT", ConntrackFormatter.ProtoStateName(6, 1));
        Assert.Null(ConntrackFormatter.ProtoStateName(17, 0));
    }

    [Fact]
    public void Events_CarryTheSctpState()
    {
        var k = new SctpKit();
        k.Table.EventsEnabled = true;
        k.Reach(SctpState.Established);
        var events = new List<CtEvent>();
        k.Table.DrainEvents(events);
        Assert.Equal(CtEventType.New, events[0].Type);
        Assert.Equal((byte)SctpState.Closed, events[0].ProtoState);
        Assert.Equal((byte)SctpState.Established, events[^1].ProtoState);
        Assert.Contains(" ESTABLISHED src=198.18.0.1", ConntrackFormatter.EventLine(events[^1]));
        Assert.Contains("[ASSURED]", ConntrackFormatter.EventLine(events[^1]));
    }

    [Fact]
    public void IcmpErrorAboutSctpPacket_IsRelated()
    {
        var k = new SctpKit().Reach(SctpState.Closed);
        var quoted = k.Frame(CtDirection.Original, 0, [InitChunk(TA)]);
        var err = Firewall.Core.Tests.Packets.FrameBuilder.Ipv4("198.18.0.2", "198.18.0.1", 1,
            Firewall.Core.Tests.Packets.FrameBuilder.Icmp(3, 3, payload: quoted[..28]));
        var r = k.Send(err);
        Assert.Equal(CtState.Related, r.State);
        Assert.Equal((byte)SctpState.Closed, r.ProtoState);
    }
}
