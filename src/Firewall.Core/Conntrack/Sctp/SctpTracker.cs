using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack.Sctp;

/// <summary>What the SCTP tracker decided for one packet.</summary>
public enum SctpVerdict : byte
{
    /// <summary>Packet accepted: apply NewState and arm TimeoutMs.</summary>
    Accept,
    /// <summary>Packet accepted, state data updated, timer not refreshed (INIT retransmission in CLOSED, HEARTBEAT re-tag).</summary>
    Ignore,
    /// <summary>Packet is INVALID. Changes made by chunks before the offending one stay (the kernel edits the entry in place).</summary>
    Invalid,
}

/// <summary>Outcome of <see cref="SctpTracker.Packet"/>.</summary>
public struct SctpResult
{
    public SctpVerdict Verdict;
    public InvalidReason Reason;
    /// <summary>The entry's state after the packet (also after an Invalid verdict: chunks before the bad one count).</summary>
    public SctpState NewState;
    /// <summary>Timeout of <see cref="NewState"/> in ms (Accept only).</summary>
    public uint TimeoutMs;
    /// <summary>The association entered ESTABLISHED: set ASSURED.</summary>
    public bool SetAssured;
}

/// <summary>
/// The kernel's SCTP tracker (nf_conntrack_proto_sctp.c, 6.18) as pure functions over <see cref="SctpConnState"/>:
/// sctp_error + do_basic_checks (<see cref="Validate"/>), sctp_new (<see cref="New"/>) and the per-chunk state machine
/// with its verification-tag rules (<see cref="Packet"/>).
/// </summary>
public static class SctpTracker
{
    public const int HeaderLength = 12;

    private const ulong Bit = 1;
    /// <summary>Chunks whose presence skips the general verification-tag check (each has its own rule).</summary>
    private const ulong VtagExempt =
        Bit << SctpChunkType.Init | Bit << SctpChunkType.ShutdownComplete | Bit << SctpChunkType.CookieEcho |
        Bit << SctpChunkType.Abort | Bit << SctpChunkType.ShutdownAck | Bit << SctpChunkType.Heartbeat |
        Bit << SctpChunkType.HeartbeatAck;
    /// <summary>Chunks that may never create an entry (out-of-the-blue rules, RFC 9260 §8.4).</summary>
    private const ulong NotOnNew = Bit << SctpChunkType.Abort | Bit << SctpChunkType.ShutdownComplete | Bit << SctpChunkType.CookieAck;

    /// <summary>
    /// sctp_error and do_basic_checks: common header present, CRC32c right (when <paramref name="verifyChecksum"/>),
    /// at least one chunk, no zero-length chunk, INIT / INIT ACK / SHUTDOWN COMPLETE alone, COOKIE ECHO / COOKIE ACK first.
    /// </summary>
    public static InvalidReason Validate(ref ParsedPacket p, bool verifyChecksum)
    {
        ReadOnlySpan<byte> l4 = L4(ref p);
        if (l4.Length < HeaderLength) return InvalidReason.SctpMalformed;
        if (verifyChecksum && !Crc32c.VerifySctp(l4)) return InvalidReason.SctpBadChecksum;
        return BasicChecks(l4, out _) ? InvalidReason.None : InvalidReason.SctpMalformed;
    }

    /// <summary>
    /// sctp_new: may this packet create an entry, and with which verification tags? No ABORT, SHUTDOWN COMPLETE or
    /// COOKIE ACK; every chunk must be one the transition table knows; an INIT must carry tag 0 and its init tag
    /// becomes the reply direction's tag; a HEARTBEAT's tag becomes the original direction's; a SHUTDOWN ACK's tag
    /// becomes the reply direction's; other chunks store no tag. Run <see cref="Packet"/> with state NONE next, as the kernel does.
    /// </summary>
    public static InvalidReason New(ref ParsedPacket p, out SctpConnState ct)
    {
        ct = default;
        ReadOnlySpan<byte> l4 = L4(ref p);
        if (l4.Length < HeaderLength || !BasicChecks(l4, out ulong map)) return InvalidReason.SctpMalformed;
        if ((map & NotOnNew) != 0) return InvalidReason.SctpInvalidChunks;
        uint vtag = BinaryPrimitives.ReadUInt32BigEndian(l4.Slice(4));
        var chunks = new SctpChunkReader(l4);
        while (chunks.MoveNext())
        {
            var next = SctpTransitionTable.Next(CtDirection.Original, SctpState.None, chunks.Type);
            if (next is SctpState.None or SctpState.Max) return InvalidReason.SctpInvalidChunks;
            switch (chunks.Type)
            {
                case SctpChunkType.Init:
                    if (vtag != 0) return InvalidReason.SctpBadVtag;
                    if (!TryInitTag(l4, chunks.Offset, out uint tag)) return InvalidReason.SctpMalformed;
                    ct.VtagReply = tag;
                    break;
                case SctpChunkType.Heartbeat:
                    ct.VtagOriginal = vtag;
                    break;
                case SctpChunkType.ShutdownAck:
                    // an out-of-the-blue SHUTDOWN ACK: expect the SHUTDOWN COMPLETE back with the same tag (§8.4 (5)).
                    // Other chunks store no tag (kernel 6.18: after a HEARTBEAT ACK with tag T, the reply direction's
                    // tag is 0, not T)
                    ct.VtagReply = vtag;
                    break;
            }
        }
        return InvalidReason.None;
    }

    /// <summary>
    /// nf_conntrack_sctp_packet after sctp_error: the general verification-tag check, then chunk by chunk the special
    /// tag rules (RFC 9260 §8.5.1), the transition table, and the INIT / INIT ACK tag bookkeeping. <paramref name="confirmed"/>
    /// is false for the packet creating the entry. <paramref name="ct"/> is edited in place, also when the verdict is Invalid.
    /// </summary>
    public static SctpResult Packet(ref SctpConnState ct, SctpState state, CtDirection dir, bool confirmed, ref ParsedPacket p, ConntrackSettings s)
    {
        var r = new SctpResult { NewState = state };
        ReadOnlySpan<byte> l4 = L4(ref p);
        if (l4.Length < HeaderLength || !BasicChecks(l4, out ulong map)) return Fail(ref r, InvalidReason.SctpMalformed);
        uint vtag = BinaryPrimitives.ReadUInt32BigEndian(l4.Slice(4));
        int d = (int)dir, o = d ^ 1;
        if ((map & VtagExempt) == 0 && vtag != ct.Vtag(d)) return Fail(ref r, InvalidReason.SctpBadVtag);

        bool ignore = false;
        bool hasData = (map & Bit << SctpChunkType.Data) != 0;
        var chunks = new SctpChunkReader(l4);
        while (chunks.MoveNext())
        {
            byte type = chunks.Type;
            switch (type)
            {
                case SctpChunkType.Init:
                    if (vtag != 0) return Fail(ref r, InvalidReason.SctpBadVtag); // (A)
                    break;
                case SctpChunkType.Abort:
                case SctpChunkType.ShutdownComplete:
                    // (B), (C): own tag, or the peer's tag when the T bit is set
                    if (vtag != ct.Vtag((chunks.Flags & SctpChunkType.FlagT) != 0 ? o : d)) return Fail(ref r, InvalidReason.SctpBadVtag);
                    break;
                case SctpChunkType.CookieEcho:
                    if (vtag != ct.Vtag(d)) return Fail(ref r, InvalidReason.SctpBadVtag); // (D)
                    break;
                case SctpChunkType.CookieAck:
                    ct.SetInit(d, false);
                    ct.SetInit(o, false);
                    break;
                case SctpChunkType.Heartbeat:
                    if (ct.Vtag(d) == 0) ct.SetVtag(d, vtag);
                    else if (vtag != ct.Vtag(d))
                    {
                        // a path with a tag we do not know: let one HEARTBEAT through, untouched, and remember it
                        if (hasData || ignore) return Fail(ref r, InvalidReason.SctpBadVtag);
                        ct.Flags |= SctpConnState.HeartbeatVtagFailed;
                        ct.LastDir = d;
                        ignore = true;
                        continue;
                    }
                    else ct.Flags &= unchecked((byte)~SctpConnState.HeartbeatVtagFailed);
                    break;
                case SctpChunkType.HeartbeatAck:
                    if (ct.Vtag(d) == 0) ct.SetVtag(d, vtag);
                    else if (vtag != ct.Vtag(d))
                    {
                        // only the answer (other direction) to such a HEARTBEAT may re-tag the entry
                        if (hasData || ignore) return Fail(ref r, InvalidReason.SctpBadVtag);
                        if ((ct.Flags & SctpConnState.HeartbeatVtagFailed) == 0 || ct.LastDir == d) return Fail(ref r, InvalidReason.SctpBadVtag);
                        ct.Flags &= unchecked((byte)~SctpConnState.HeartbeatVtagFailed);
                        ct.SetVtag(d, vtag);
                        ct.SetVtag(o, 0);
                    }
                    else ct.Flags &= unchecked((byte)~SctpConnState.HeartbeatVtagFailed);
                    break;
            }

            SctpState old = r.NewState;
            SctpState next = SctpTransitionTable.Next(dir, old, type);
            if (next == SctpState.Max) return Fail(ref r, InvalidReason.SctpInvalidChunks);

            if (type == SctpChunkType.Init)
            {
                if (!TryInitTag(l4, chunks.Offset, out uint tag)) return Fail(ref r, InvalidReason.SctpMalformed);
                // a stale or retransmitted INIT (offering the tag already known for the peer) does not count as this
                // side's INIT: the INIT ACK that follows must then keep the known tag
                if (old == SctpState.None || ct.Vtag(o) != tag)
                {
                    if (ct.Init(d) && ct.Init(o)) ct.SetInit(o, false);
                    ct.SetInit(d, true);
                }
                ct.SetVtag(o, tag);
                // an INIT retransmitted into CLOSED must not keep the entry (and a reused port) alive
                if (next == SctpState.Closed && old == SctpState.Closed && confirmed) ignore = true;
            }
            else if (type == SctpChunkType.InitAck)
            {
                if (!TryInitTag(l4, chunks.Offset, out uint tag)) return Fail(ref r, InvalidReason.SctpMalformed);
                uint known = ct.Vtag(o);
                if (!ct.Init(o) && known != 0 && known != tag) return Fail(ref r, InvalidReason.SctpBadVtag);
                if (ct.Init(d) && ct.Init(o) && known != tag) return Fail(ref r, InvalidReason.SctpBadVtag); // collision
                ct.SetVtag(o, tag);
            }

            r.NewState = next;
            if (old != next && next == SctpState.Established) r.SetAssured = true;
        }

        if (ignore)
        {
            r.Verdict = SctpVerdict.Ignore;
            return r;
        }
        r.Verdict = SctpVerdict.Accept;
        r.TimeoutMs = TimeoutMs(r.NewState, s);
        return r;
    }

    /// <summary>The timeout of a state (NONE uses CLOSED's, as the kernel's timeouts[0]).</summary>
    public static uint TimeoutMs(SctpState state, ConntrackSettings s)
    {
        uint i = (uint)state;
        return i < (uint)s.SctpTimeoutMs.Length ? s.SctpTimeoutMs[i] : s.SctpTimeoutMs[(int)SctpState.Closed];
    }

    /// <summary>
    /// do_basic_checks: walks the chunks and returns the set of chunk types present (bit n = type n, types below 64).
    /// False for no chunks, a zero-length chunk, an INIT / INIT ACK / SHUTDOWN COMPLETE that is not the only chunk,
    /// or a COOKIE ECHO / COOKIE ACK that is not the first.
    /// </summary>
    public static bool BasicChecks(ReadOnlySpan<byte> sctp, out ulong map)
    {
        map = 0;
        bool alone = false;
        int count = 0;
        var chunks = new SctpChunkReader(sctp);
        while (chunks.MoveNext())
        {
            byte type = chunks.Type;
            if (type is SctpChunkType.Init or SctpChunkType.InitAck or SctpChunkType.ShutdownComplete) alone = true;
            if (((type is SctpChunkType.CookieAck or SctpChunkType.CookieEcho || alone) && count != 0) || chunks.Length == 0) return false;
            if (type < 64) map |= Bit << type;
            count++;
        }
        return count != 0;
    }

    /// <summary>The Initiate Tag of the INIT / INIT ACK chunk at <paramref name="chunkOffset"/> (needs the 16-byte fixed part).</summary>
    private static bool TryInitTag(ReadOnlySpan<byte> sctp, int chunkOffset, out uint tag)
    {
        int at = chunkOffset + 4;
        if (sctp.Length - at < 16) { tag = 0; return false; }
        tag = BinaryPrimitives.ReadUInt32BigEndian(sctp.Slice(at));
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> L4(ref ParsedPacket p)
    {
        if (p.L4Offset < 0 || p.L4Length < 0 || (long)p.L4Offset + p.L4Length > p.Frame.Length) return default;
        return p.Frame.Slice(p.L4Offset, p.L4Length);
    }

    private static SctpResult Fail(ref SctpResult r, InvalidReason why)
    {
        r.Verdict = SctpVerdict.Invalid;
        r.Reason = why;
        return r;
    }
}

/// <summary>
/// Walks the chunks after the SCTP common header as the kernel's for_each_sctp_chunk does: a chunk needs its 4-byte
/// header inside the packet; the next chunk starts at the length rounded up to 4 (a zero length ends the walk here,
/// the basic checks reject it).
/// </summary>
public ref struct SctpChunkReader
{
    private readonly ReadOnlySpan<byte> _sctp;
    private int _next;

    public SctpChunkReader(ReadOnlySpan<byte> sctp)
    {
        _sctp = sctp;
        _next = SctpTracker.HeaderLength;
    }

    /// <summary>Offset of the current chunk from the start of the SCTP header.</summary>
    public int Offset { get; private set; }
    public byte Type { get; private set; }
    public byte Flags { get; private set; }
    /// <summary>The chunk's length field (header included, padding excluded).</summary>
    public ushort Length { get; private set; }

    public bool MoveNext()
    {
        int off = _next;
        if (off >= _sctp.Length || _sctp.Length - off < 4) return false;
        Offset = off;
        Type = _sctp[off];
        Flags = _sctp[off + 1];
        Length = BinaryPrimitives.ReadUInt16BigEndian(_sctp.Slice(off + 2));
        _next = Length == 0 ? _sctp.Length : off + ((Length + 3) & ~3);
        return true;
    }
}
