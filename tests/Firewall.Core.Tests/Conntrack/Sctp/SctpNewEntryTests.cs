using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using static Firewall.Core.Tests.Conntrack.Sctp.SctpKit;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>
/// Which packets may create an SCTP entry (sctp_packet on an unconfirmed entry + sctp_new), with the results the
/// running 6.18.44 kernel gave for the same packets without an entry (noted as "kernel:").
/// </summary>
public class SctpNewEntryTests
{
    private static (SctpKit, TrackResult) First(uint vtag, params byte[][] chunks)
    {
        var k = new SctpKit();
        return (k, k.Orig(vtag, chunks));
    }

    [Fact]
    public void Init_CreatesClosedEntry_10s()
    {
        // kernel: INIT → NEW, "sctp 132 9 CLOSED … [UNREPLIED]"
        var (k, r) = First(0, InitChunk(TA));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(SctpState.Closed, k.State);
        Assert.Equal(10u, k.RemainingS);
        Assert.Equal(CtStatus.None, k.Entry.Status & (CtStatus.SeenReply | CtStatus.Assured));
    }

    [Fact]
    public void InitWithNonZeroVtag_IsInvalid()
    {
        // kernel: INIT with vtag 5 → INVALID, no entry (RFC 9260 §8.5.1 (A))
        var (k, r) = First(5, InitChunk(TA));
        Assert.Equal(InvalidReason.SctpBadVtag, r.Reason);
        Assert.True(k.Empty);
    }

    [Theory]
    [InlineData(Abort)]
    [InlineData(CookieAck)]
    [InlineData(ShutdownComplete)]
    public void OutOfTheBlueChunk_CannotCreateEntry(byte type)
    {
        // kernel: ABORT, COOKIE ACK, SHUTDOWN COMPLETE without an entry → INVALID (RFC 9260 §8.4)
        var (k, r) = First(5, AnyChunk(type));
        Assert.Equal(InvalidReason.SctpInvalidChunks, r.Reason);
        Assert.True(k.Empty);
    }

    [Theory]
    [InlineData(Data)]
    [InlineData(Sack)]
    [InlineData(0x40)]
    public void ChunkWithoutTableRow_CannotCreateEntry(byte type)
    {
        // kernel: DATA only without an entry → INVALID (the state stays NONE, which sctp_new rejects)
        var (k, r) = First(5, AnyChunk(type));
        Assert.Equal(InvalidReason.SctpInvalidChunks, r.Reason);
        Assert.True(k.Empty);
    }

    [Fact]
    public void HeartbeatFollowedByData_CannotCreateEntry()
    {
        var (k, r) = First(TH, AnyChunk(Heartbeat), DataChunk());
        Assert.Equal(InvalidReason.SctpInvalidChunks, r.Reason);
        Assert.True(k.Empty);
    }

    [Theory]
    [InlineData(CookieEcho)]
    [InlineData(InitAck)]
    [InlineData(Shutdown)]
    [InlineData(Error)]
    public void ChunkWithVtagZero_CreatesClosedEntry(byte type)
    {
        // kernel: COOKIE ECHO / INIT ACK / SHUTDOWN / ERROR with vtag 0 → NEW, CLOSED
        var (k, r) = First(0, AnyChunk(type));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Theory]
    [InlineData(CookieEcho)]
    [InlineData(InitAck)]
    [InlineData(Shutdown)]
    [InlineData(Error)]
    public void ChunkWithNonZeroVtag_IsInvalid(byte type)
    {
        // kernel: COOKIE ECHO / INIT ACK with vtag 5 → INVALID: sctp_new stores no tag for these chunks, so the
        // original direction's tag is 0
        var (k, r) = First(5, AnyChunk(type));
        Assert.Equal(InvalidReason.SctpBadVtag, r.Reason);
        Assert.True(k.Empty);
    }

    [Fact]
    public void ShutdownAck_CreatesShutdownAckSentEntry_AnyVtag()
    {
        // kernel: SHUTDOWN ACK with vtag 5 → NEW, "SHUTDOWN_ACK_SENT", 3 s
        var (k, r) = First(5, AnyChunk(ShutdownAck));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(SctpState.ShutdownAckSent, k.State);
        Assert.Equal(3u, k.RemainingS);
    }

    [Fact]
    public void ShutdownAckEntry_ExpectsTheSameTagBack()
    {
        // sctp_new keeps an OOTB packet's tag for the reply direction (the peer's SHUTDOWN COMPLETE, §8.4 (5))
        var (k, _) = First(5, AnyChunk(ShutdownAck));
        Assert.Equal(CtState.Invalid, k.Reply(6, AnyChunk(ShutdownComplete)).State);
        Assert.Equal(CtState.Established, k.Reply(5, AnyChunk(ShutdownComplete)).State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void Heartbeat_CreatesHeartbeatSentEntry_30s()
    {
        // kernel: HEARTBEAT with vtag 5 → NEW, "HEARTBEAT_SENT", 30 s (a secondary path of a multihomed association)
        var (k, r) = First(5, AnyChunk(Heartbeat));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(SctpState.HeartbeatSent, k.State);
        Assert.Equal(30u, k.RemainingS);
    }

    [Fact]
    public void HeartbeatAck_CreatesClosedEntry_AnyVtag()
    {
        // kernel: HEARTBEAT ACK with vtag 5 → NEW, CLOSED
        var (k, r) = First(5, AnyChunk(HeartbeatAck));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void HeartbeatAckEntry_StoresNoTagForTheReplyDirection()
    {
        // kernel (differential sctp_no_entry): HEARTBEAT ACK a->b with vtag 5 → NEW; then DATA b->a with vtag 5 →
        // INVALID, with vtag 0 → ESTABLISHED: only a SHUTDOWN ACK keeps the packet's tag for the reply direction
        var (k, _) = First(5, AnyChunk(HeartbeatAck));
        Assert.Equal(InvalidReason.SctpBadVtag, k.Reply(5, DataChunk()).Reason);
        Assert.Equal(CtState.Established, k.Reply(0, DataChunk()).State);
    }

    [Fact]
    public void DroppedInit_LeavesNoEntry()
    {
        var k = new SctpKit();
        var frame = k.Frame(CtDirection.Original, 0, [InitChunk(TA)]);
        Firewall.Core.Packets.PacketParser.Parse(frame, Firewall.Core.Packets.LinkType.RawIp, out var p);
        var r = k.W.Track(ref p, k.Now, TrackOptions.Received);
        Assert.True(r.IsNew);
        k.W.Release(ref r);
        Assert.True(k.Empty);
        Assert.Equal(0, k.Table.Count);
    }
}
