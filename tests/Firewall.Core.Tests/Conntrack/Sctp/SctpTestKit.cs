using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Packets;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>
/// One table and worker, and a client A (198.18.0.1:1000) talking SCTP to B (198.18.0.2:2000). Every packet is built
/// as bytes (with CRC32c), parsed by <see cref="PacketParser"/> and tracked as a received packet (checksums verified);
/// a NEW packet is confirmed at once (the rules accepted it). Time is the injected clock <see cref="Now"/>.
/// </summary>
internal sealed class SctpKit
{
    public const long S = 1_000_000_000L;
    /// <summary>A's initiate tag (the tag B's packets carry) and B's (the tag A's packets carry after the handshake).</summary>
    public const uint TA = 0x11111111, TB = 0x22222222;
    /// <summary>The tag of a HEARTBEAT that opens a secondary-path entry.</summary>
    public const uint TH = 0x0000AAAA;
    public const ushort PortA = 1000, PortB = 2000;

    public readonly ConntrackTable Table;
    public readonly ConntrackWorker W;
    public long Now = 1000 * S;
    public readonly bool V6;

    public SctpKit(Action<ConntrackOptions>? tune = null, bool v6 = false)
    {
        var o = new ConntrackOptions { Max = 64 };
        tune?.Invoke(o);
        Table = new ConntrackTable(o);
        W = Table.CreateWorker();
        V6 = v6;
    }

    private string AddrA => V6 ? FrameBuilder.A6 : FrameBuilder.A4;
    private string AddrB => V6 ? FrameBuilder.B6 : FrameBuilder.B4;

    public byte[] Frame(CtDirection dir, uint vtag, byte[][] chunks, uint? crc = null)
    {
        bool orig = dir == CtDirection.Original;
        var sctp = Packet(orig ? PortA : PortB, orig ? PortB : PortA, vtag, chunks, crc);
        string src = orig ? AddrA : AddrB, dst = orig ? AddrB : AddrA;
        return V6 ? FrameBuilder.Ipv6(src, dst, FrameBuilder.ProtoSctp, sctp) : FrameBuilder.Ipv4(src, dst, FrameBuilder.ProtoSctp, sctp);
    }

    public TrackResult Orig(uint vtag, params byte[][] chunks) => Send(Frame(CtDirection.Original, vtag, chunks));
    public TrackResult Reply(uint vtag, params byte[][] chunks) => Send(Frame(CtDirection.Reply, vtag, chunks));
    public TrackResult To(CtDirection dir, uint vtag, params byte[][] chunks) => Send(Frame(dir, vtag, chunks));

    public TrackResult Send(byte[] ipPacket, TrackOptions? options = null, bool malformed = false)
    {
        var err = PacketParser.Parse(ipPacket, LinkType.RawIp, out var p);
        Assert.True(err == ParseError.None || malformed, $"test frame did not parse: {err}");
        var r = W.Track(ref p, Now, options ?? TrackOptions.Received);
        if (r.IsNew) Assert.True(W.Confirm(ref r));
        return r;
    }

    public void Advance(double seconds) => Now += (long)(seconds * S);

    /// <summary>The only entry in the table (fails when there is not exactly one).</summary>
    public ConntrackEntrySnapshot Entry => Assert.Single(Table.Snapshot(Now));

    public bool Empty => Table.Snapshot(Now).Count == 0;

    public SctpState State => (SctpState)Entry.State;

    public uint RemainingS => Entry.RemainingMs / 1000;

    // ------------------------------------------------------------ association steps (tags as a real association uses them)

    public TrackResult SendInit() => Orig(0, InitChunk(TA));
    public TrackResult SendInitAck() => Reply(TA, InitAckChunk(TB));
    public TrackResult SendCookieEcho() => Orig(TB, AnyChunk(CookieEcho));
    public TrackResult SendCookieAck() => Reply(TA, AnyChunk(CookieAck));

    /// <summary>
    /// Builds an entry in <paramref name="state"/> with real packets: CLOSED (INIT), COOKIE_WAIT (+INIT ACK),
    /// COOKIE_ECHOED (+COOKIE ECHO), ESTABLISHED (+COOKIE ACK), SHUTDOWN_SENT (+SHUTDOWN from A), SHUTDOWN_RECD
    /// (+SHUTDOWN from B), SHUTDOWN_ACK_SENT (SHUTDOWN_SENT + SHUTDOWN ACK from B), HEARTBEAT_SENT (a lone HEARTBEAT from A).
    /// </summary>
    public SctpKit Reach(SctpState state)
    {
        if (state == SctpState.HeartbeatSent)
        {
            Orig(TH, AnyChunk(Heartbeat));
            return Check(state);
        }
        SendInit();
        if (state == SctpState.Closed) return Check(state);
        SendInitAck();
        if (state == SctpState.CookieWait) return Check(state);
        SendCookieEcho();
        if (state == SctpState.CookieEchoed) return Check(state);
        SendCookieAck();
        if (state == SctpState.Established) return Check(state);
        if (state == SctpState.ShutdownRecd) { Reply(TA, AnyChunk(Shutdown)); return Check(state); }
        Orig(TB, AnyChunk(Shutdown));
        if (state == SctpState.ShutdownSent) return Check(state);
        Reply(TA, AnyChunk(ShutdownAck));
        return Check(state == SctpState.ShutdownAckSent ? state : throw new ArgumentOutOfRangeException(nameof(state)));
    }

    private SctpKit Check(SctpState state)
    {
        Assert.Equal(state, State);
        return this;
    }

    /// <summary>The verification tag packets in <paramref name="dir"/> carry on an entry built by <see cref="Reach"/>.</summary>
    public static uint OwnTag(SctpState state, CtDirection dir) => state switch
    {
        SctpState.None => 0,
        SctpState.Closed => dir == CtDirection.Original ? 0 : TA,
        SctpState.HeartbeatSent => dir == CtDirection.Original ? TH : 0,
        _ => dir == CtDirection.Original ? TB : TA,
    };
}
