using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using static Firewall.Core.Tests.Conntrack.Sctp.SctpKit;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>
/// Verification-tag rules (RFC 9260 §8.5 as nf_conntrack_sctp_packet applies them), each replayed from a sequence
/// sent through a 6.18.44 router namespace; "kernel:" gives the FORWARD ctstate and the entry it showed.
/// </summary>
public class SctpVtagTests
{
    private static SctpKit At(SctpState s) => new SctpKit().Reach(s);

    [Fact]
    public void DataWithWrongVtag_IsInvalid_AndChangesNothing()
    {
        // kernel: DATA a->b with vtag 0x999 on ESTABLISHED → INVALID, entry unchanged
        var k = At(SctpState.Established);
        k.Advance(10);
        var r = k.Orig(0x999, DataChunk());
        Assert.Equal(InvalidReason.SctpBadVtag, r.Reason);
        Assert.Equal(200u, k.RemainingS);
    }

    [Fact]
    public void DataWithPeerTagInReplyDirection_IsAccepted()
    {
        var k = At(SctpState.Established);
        Assert.Equal(CtState.Established, k.Reply(TA, AnyChunk(Sack)).State);
    }

    [Fact]
    public void AbortWithoutT_MustCarryOwnTag()
    {
        // kernel: ABORT a->b, T=0, vtag TA (the peer's) → INVALID; vtag TB → CLOSED 10 s
        var k = At(SctpState.Established);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(TA, AnyChunk(Abort)).Reason);
        Assert.Equal(CtState.Established, k.Orig(TB, AnyChunk(Abort)).State);
        Assert.Equal(SctpState.Closed, k.State);
        Assert.Equal(10u, k.RemainingS);
    }

    [Fact]
    public void AbortWithT_MustCarryPeerTag()
    {
        // kernel: ABORT a->b, T=1, vtag TA → CLOSED
        var k = At(SctpState.Established);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(TB, AnyChunk(Abort, flags: T)).Reason);
        Assert.Equal(CtState.Established, k.Orig(TA, AnyChunk(Abort, flags: T)).State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void ShutdownCompleteWithoutT_MustCarryOwnTag()
    {
        // kernel: SHUTDOWN COMPLETE b->a with vtag 0x99 in SHUTDOWN_ACK_SENT → INVALID
        var k = new SctpKit().Reach(SctpState.Established);
        k.Reply(TA, AnyChunk(Shutdown));
        k.Orig(TB, AnyChunk(ShutdownAck));
        Assert.Equal(SctpState.ShutdownAckSent, k.State);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(0x99, AnyChunk(ShutdownComplete)).Reason);
        Assert.Equal(CtState.Established, k.Reply(TA, AnyChunk(ShutdownComplete)).State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void ShutdownCompleteWithT_MustCarryPeerTag()
    {
        // kernel: SHUTDOWN COMPLETE b->a, T=1, vtag TB (a's tag) → CLOSED
        var k = new SctpKit().Reach(SctpState.Established);
        k.Reply(TA, AnyChunk(Shutdown));
        k.Orig(TB, AnyChunk(ShutdownAck));
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(TA, AnyChunk(ShutdownComplete, flags: T)).Reason);
        Assert.Equal(CtState.Established, k.Reply(TB, AnyChunk(ShutdownComplete, flags: T)).State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void InitOnExistingEntry_MustCarryVtagZero()
    {
        var k = At(SctpState.Established);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(TB, InitChunk(0x33)).Reason);
    }

    [Fact]
    public void InitAckWithWrongVtag_IsInvalid()
    {
        // kernel: INIT ACK b->a carrying vtag 0x77 instead of the INIT's tag → INVALID, entry stays CLOSED [UNREPLIED]
        var k = At(SctpState.Closed);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(0x77, InitAckChunk(TB)).Reason);
        Assert.Equal(SctpState.Closed, k.State);
        Assert.Equal(CtStatus.None, k.Entry.Status & CtStatus.SeenReply);
    }

    [Fact]
    public void RetransmittedInitAckWithNewTag_ReplacesTheTag()
    {
        // kernel: a second INIT ACK with init tag 0x66 is accepted; afterwards COOKIE ECHO with 0x66 is accepted and
        // COOKIE ECHO with the first tag TB is INVALID
        var k = At(SctpState.CookieWait);
        Assert.Equal(CtState.Established, k.Reply(TA, InitAckChunk(0x66)).State);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(TB, AnyChunk(CookieEcho)).Reason);
        Assert.Equal(CtState.Established, k.Orig(0x66, AnyChunk(CookieEcho)).State);
        Assert.Equal(SctpState.CookieEchoed, k.State);
    }

    [Fact]
    public void InitRetransmittedWithTheKnownTag_DoesNotCount_SoAnInitAckWithAnotherTagIsInvalid()
    {
        // kernel (differential sctp_retransmissions): on ESTABLISHED, INIT a->b offering TA again → ESTABLISHED; then
        // INIT ACK b->a with tag 0x43 → INVALID, with the known TB → ESTABLISHED (the stale INIT is not recorded)
        var k = At(SctpState.Established);
        Assert.Equal(CtState.Established, k.Orig(0, InitChunk(TA)).State);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(TA, InitAckChunk(0x43)).Reason);
        Assert.Equal(CtState.Established, k.Reply(TA, InitAckChunk(TB)).State);
    }

    [Fact]
    public void InitWithANewTag_Counts_SoTheInitAckMayOfferANewTag()
    {
        // a restarted peer: INIT a->b with a new initiate tag on ESTABLISHED, INIT ACK b->a with a new tag → accepted,
        // and the next COOKIE ECHO must carry it
        var k = At(SctpState.Established);
        Assert.Equal(CtState.Established, k.Orig(0, InitChunk(0x31)).State);
        Assert.Equal(CtState.Established, k.Reply(0x31, InitAckChunk(0x43)).State);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(TB, AnyChunk(CookieEcho)).Reason);
        Assert.Equal(CtState.Established, k.Orig(0x43, AnyChunk(CookieEcho)).State);
    }

    [Fact]
    public void CookieEchoWithWrongVtag_IsInvalid()
    {
        var k = At(SctpState.CookieWait);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(0x66, AnyChunk(CookieEcho)).Reason);
        Assert.Equal(SctpState.CookieWait, k.State);
    }

    [Fact]
    public void InitCollision_InitAckMustMatchTheKnownTag()
    {
        // kernel: INIT a->b (TA); INIT b->a (TB) → CLOSED, ESTABLISHED ctstate, timer not refreshed;
        // INIT ACK a->b (vtag TB, tag TA) → CLOSED; INIT ACK b->a (vtag TA, tag 0x55) → INVALID;
        // INIT ACK b->a (vtag TA, tag TB) → COOKIE_WAIT
        var k = At(SctpState.Closed);
        Assert.Equal(CtState.Established, k.Reply(0, InitChunk(TB)).State);
        Assert.Equal(SctpState.Closed, k.State);
        Assert.Equal(CtState.Established, k.Orig(TB, InitAckChunk(TA)).State);
        Assert.Equal(SctpState.Closed, k.State);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(TA, InitAckChunk(0x55)).Reason);
        Assert.Equal(CtState.Established, k.Reply(TA, InitAckChunk(TB)).State);
        Assert.Equal(SctpState.CookieWait, k.State);
    }

    [Fact]
    public void HeartbeatWithUnknownVtag_IsAcceptedButIgnored()
    {
        // kernel: HEARTBEAT a->b with vtag 0xCC on ESTABLISHED → ESTABLISHED ctstate, timer not refreshed
        var k = At(SctpState.Established);
        k.Advance(10);
        Assert.Equal(CtState.Established, k.Orig(0xCC, AnyChunk(Heartbeat)).State);
        Assert.Equal(200u, k.RemainingS);
    }

    [Fact]
    public void HeartbeatAckWithUnknownVtag_SameDirectionAsTheHeartbeat_IsInvalid()
    {
        // kernel: after that HEARTBEAT, HEARTBEAT ACK a->b with 0xCC → INVALID
        var k = At(SctpState.Established);
        k.Orig(0xCC, AnyChunk(Heartbeat));
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(0xCC, AnyChunk(HeartbeatAck)).Reason);
    }

    [Fact]
    public void HeartbeatAckWithUnknownVtag_Answering_RetagsBothDirections()
    {
        // kernel: HEARTBEAT ACK b->a with 0xDD → accepted; then DATA b->a 0xDD accepted, DATA a->b with the old tag
        // INVALID and DATA a->b with tag 0 accepted (the other direction's tag was reset to 0)
        var k = At(SctpState.Established);
        k.Orig(0xCC, AnyChunk(Heartbeat));
        Assert.Equal(CtState.Established, k.Reply(0xDD, AnyChunk(HeartbeatAck)).State);
        Assert.Equal(CtState.Established, k.Reply(0xDD, DataChunk()).State);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(TB, DataChunk()).Reason);
        Assert.Equal(CtState.Established, k.Orig(0, DataChunk()).State);
    }

    [Fact]
    public void HeartbeatAckWithUnknownVtag_WithoutHeartbeatBefore_IsInvalid()
    {
        var k = At(SctpState.Established);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(0xDD, AnyChunk(HeartbeatAck)).Reason);
    }

    [Fact]
    public void HeartbeatWithUnknownVtag_BundledWithData_IsInvalid()
    {
        var k = At(SctpState.Established);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Orig(0xCC, AnyChunk(Heartbeat), DataChunk()).Reason);
    }

    [Fact]
    public void HeartbeatOnEntryWithoutTag_LearnsTheTag()
    {
        // kernel: secondary path: HEARTBEAT a->b (0xAA) creates HEARTBEAT_SENT, HEARTBEAT b->a (0xBB) learns B's tag,
        // HEARTBEAT ACK b->a (0xBB) → ESTABLISHED 210 s [ASSURED]
        var k = At(SctpState.HeartbeatSent);
        Assert.Equal(CtState.Established, k.Reply(0xBB, AnyChunk(Heartbeat)).State);
        Assert.Equal(SctpState.HeartbeatSent, k.State);
        Assert.Equal(CtState.Established, k.Reply(0xBB, AnyChunk(HeartbeatAck)).State);
        Assert.Equal(SctpState.Established, k.State);
        Assert.Equal(CtStatus.Assured, k.Entry.Status & CtStatus.Assured);
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(0xBC, DataChunk()).Reason);
    }

    [Fact]
    public void InvalidChunkAfterValidOnes_KeepsTheEarlierChanges()
    {
        // kernel: SHUTDOWN + ABORT(T=1, wrong tag) a->b on ESTABLISHED → INVALID, yet the entry shows SHUTDOWN_SENT
        // with the old 209 s timer; a following DATA refreshes it to SHUTDOWN_SENT's 3 s
        var k = At(SctpState.Established);
        k.Advance(1);
        var r = k.Orig(TB, AnyChunk(Shutdown), AnyChunk(Abort, flags: T));
        Assert.Equal(InvalidReason.SctpBadVtag, r.Reason);
        Assert.Equal(SctpState.ShutdownSent, k.State);
        Assert.Equal(209u, k.RemainingS);
        Assert.Equal(CtState.Established, k.Orig(TB, DataChunk()).State);
        Assert.Equal(3u, k.RemainingS);
    }

    [Fact]
    public void ShutdownThenAbort_BothApplied()
    {
        // kernel: SHUTDOWN + ABORT(T=0, own tag) → CLOSED
        var k = At(SctpState.Established);
        Assert.Equal(CtState.Established, k.Orig(TB, AnyChunk(Shutdown), AnyChunk(Abort)).State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void InvalidReplyPacket_DoesNotSetSeenReply()
    {
        var k = At(SctpState.HeartbeatSent);
        Assert.Equal(CtState.Invalid, k.Reply(0, AnyChunk(Shutdown)).State); // reply SHUTDOWN in HEARTBEAT_SENT: IV
        Assert.Equal(CtStatus.None, k.Entry.Status & CtStatus.SeenReply);
    }
}
