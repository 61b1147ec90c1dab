using System.Runtime.CompilerServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack.Tcp;

/// <summary>What the TCP tracker decided for one packet on an entry.</summary>
public enum TcpVerdict : byte
{
    /// <summary>Packet accepted: apply NewState and, if RefreshTimer, the timeout.</summary>
    Accept,
    /// <summary>Packet keeps its conntrack (ctinfo unchanged) but changes nothing except the recorded last_* fields.</summary>
    Ignore,
    /// <summary>Packet is INVALID (loses its conntrack).</summary>
    Invalid,
    /// <summary>SYN reusing a TIME_WAIT/CLOSE tuple: delete the old entry and process the packet again from scratch (it will be NEW).</summary>
    Reopen,
}

/// <summary>Outcome of <see cref="TcpTracker.Packet"/>; the table applies it.</summary>
public struct TcpResult
{
    public TcpVerdict Verdict;
    public InvalidReason Reason;
    /// <summary>The entry's state after the packet (the old state unless the verdict is Accept).</summary>
    public TcpState NewState;
    /// <summary>Timeout to arm when <see cref="RefreshTimer"/> or <see cref="ShortenTimeout"/> (milliseconds).</summary>
    public uint TimeoutMs;
    public bool RefreshTimer;
    /// <summary>Set ASSURED (4.8 step 4).</summary>
    public bool SetAssured;
    /// <summary>RST on an entry that never saw a reply: accept the packet, then delete the entry at once.</summary>
    public bool DeleteEntry;
    /// <summary>
    /// Invalid FIN/RST answering a FIN/RST on an ASSURED entry: set the remaining timeout to TimeoutMs now.
    /// Only set when the kernel would do it (at least 120 s remained and more than TimeoutMs remained).
    /// </summary>
    public bool ShortenTimeout;
}

/// <summary>
/// The kernel's TCP tracker (nf_conntrack_proto_tcp.c) as pure functions over <see cref="TcpConnState"/>.
/// Reference: conntrack-reference.md §4, and the kernel source where the reference is vague.
/// </summary>
public static partial class TcpTracker
{
    public const byte FlagFin = 0x01, FlagSyn = 0x02, FlagRst = 0x04, FlagPsh = 0x08,
        FlagAck = 0x10, FlagUrg = 0x20, FlagEce = 0x40, FlagCwr = 0x80;

    private const int Orig = 0, Repl = 1;

    /// <summary>Bit n set = flag combination n (after removing PSH, ECE, CWR) is valid (4.3, the kernel's tcp_valid_flags).</summary>
    private const ulong ValidFlagMask =
        1UL << FlagSyn | 1UL << (FlagSyn | FlagUrg) | 1UL << (FlagSyn | FlagAck) |
        1UL << FlagRst | 1UL << (FlagRst | FlagAck) |
        1UL << (FlagFin | FlagAck) | 1UL << (FlagFin | FlagAck | FlagUrg) |
        1UL << FlagAck | 1UL << (FlagAck | FlagUrg);

    /// <summary>True when the flag byte is one of the nine combinations the kernel accepts (PSH, ECE, CWR ignored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsValidFlagCombination(byte flags)
        => ((ValidFlagMask >> (flags & ~(FlagPsh | FlagEce | FlagCwr))) & 1) != 0;

    /// <summary>
    /// tcp_error(): header sanity, checksum (when <paramref name="verifyChecksum"/>), flag combination.
    /// Returns <see cref="InvalidReason.None"/> when the packet may be tracked.
    /// </summary>
    public static InvalidReason Validate(ref ParsedPacket p, bool verifyChecksum)
    {
        int hl = p.TcpHeaderLength;
        if (hl < 20 || hl > p.L4Length) return InvalidReason.TcpTruncated;
        if (verifyChecksum)
        {
            // Offsets that do not fit the frame cannot be summed; the kernel never sees such a packet.
            if (p.L4Offset < 0 || (long)p.L4Offset + p.L4Length > p.Frame.Length) return InvalidReason.TcpTruncated;
            if (!Checksum.VerifyL4(ref p)) return InvalidReason.TcpBadChecksum;
        }
        if (!IsValidFlagCombination(p.TcpFlagBits)) return InvalidReason.TcpBadFlags;
        return InvalidReason.None;
    }

    /// <summary>
    /// tcp_new(): a packet that matched no entry. On success <paramref name="s"/> is initialised as the kernel
    /// initialises a new entry; the caller then runs the packet through <see cref="Packet"/> with state NONE.
    /// </summary>
    public static InvalidReason New(ref ParsedPacket p, ConntrackSettings settings, ref TcpConnState s)
    {
        TcpState next = TcpTransitionTable.Next(CtDirection.Original, TcpState.None, TcpTransitionTable.KindOf(p.TcpFlagBits));
        if (next >= TcpState.Max) return InvalidReason.TcpInvalidNew;

        uint end = SegmentEnd(ref p);
        uint win = p.Window == 0 ? 1u : p.Window;
        if (next == TcpState.SynSent)
        {
            s = default;
            s.OrigEnd = end;
            s.OrigMaxWin = win;
            s.OrigMaxEnd = end;
            ApplyOptions(ref s, Orig, ref p);
        }
        else if (!settings.TcpLoose)
        {
            return InvalidReason.TcpInvalidNew;
        }
        else
        {
            // Mid-stream pick-up: history is lost, so window checking is made liberal in both directions.
            s = default;
            s.OrigEnd = end;
            s.OrigMaxWin = win;
            s.OrigMaxEnd = end + win;
            s.OrigFlags = s.ReplyFlags = TcpSeenFlags.SackPerm | TcpSeenFlags.BeLiberal;
        }
        s.LastIndex = TcpPacketKind.None;
        return InvalidReason.None;
    }

    /// <summary>
    /// tcp_packet(): one packet in direction <paramref name="dir"/> on an entry in <paramref name="state"/> with
    /// <paramref name="status"/> (SEEN_REPLY, ASSURED and FIXED_TIMEOUT are read). Mutates <paramref name="s"/>
    /// exactly where the kernel mutates ip_ct_tcp. <paramref name="remainingMs"/> is the entry's remaining timeout.
    /// </summary>
    public static TcpResult Packet(ref TcpConnState s, TcpState state, CtStatus status, CtDirection dir,
                                   ref ParsedPacket p, ConntrackSettings settings, uint remainingMs)
    {
        int d = (int)dir & 1;
        byte flags = p.TcpFlagBits;
        TcpPacketKind index = TcpTransitionTable.KindOf(flags);
        // storedState is ct->proto.tcp.state (read by the window check); oldState may be rewritten by resync.
        TcpState storedState = state;
        TcpState oldState = state;
        TcpState newState = TcpTransitionTable.Next(dir, oldState, index);

        switch (newState)
        {
            case TcpState.SynSent:
                if (oldState < TcpState.TimeWait) break;
                // 4.7.1: reopen a closed/aborted connection, else treat the SYN as ignored.
                if (((s.OrigFlags | s.ReplyFlags) & TcpSeenFlags.CloseInit) != 0 ||
                    (s.LastDir == d && s.LastIndex == TcpPacketKind.Rst))
                    return new TcpResult { Verdict = TcpVerdict.Reopen, NewState = state };
                goto case TcpState.Ignore;

            case TcpState.Ignore:
                if (index == TcpPacketKind.SynAck && s.LastIndex == TcpPacketKind.Syn &&
                    s.LastDir != d && p.Ack == s.LastEnd)
                {
                    // 4.7.2 resynchronisation: this SYN-ACK answers a SYN we ignored; rebuild from the remembered values.
                    oldState = TcpState.SynSent;
                    newState = TcpState.SynRecv;
                    Resync(ref s, d);
                    break;
                }
                RecordIgnored(ref s, d, index, oldState, ref p);
                return new TcpResult { Verdict = TcpVerdict.Ignore, NewState = state };

            case TcpState.Max:
                return Invalid(state, InvalidReason.TcpInvalidState);

            case TcpState.TimeWait:
                if (oldState == TcpState.LastAck && index == TcpPacketKind.Ack && s.LastDir != d &&
                    s.LastIndex == TcpPacketKind.Syn && (s.LastFlags & TcpSeenFlags.ExpChallengeAck) != 0)
                {
                    // RFC 5961 challenge ACK answering the SYN ignored in LAST_ACK: accepted, nothing else changes.
                    s.LastFlags &= unchecked((byte)~TcpSeenFlags.ExpChallengeAck);
                    return new TcpResult { Verdict = TcpVerdict.Accept, NewState = state };
                }
                break;

            case TcpState.SynSent2:
                s.LastFlags |= TcpSeenFlags.SimultaneousOpen;
                break;

            case TcpState.SynRecv:
                if (d == Repl && index == TcpPacketKind.Ack && (s.LastFlags & TcpSeenFlags.SimultaneousOpen) != 0)
                    newState = TcpState.Established;
                break;

            case TcpState.Close:
                if (index != TcpPacketKind.Rst) break;
                switch (CheckRst(ref s, d, storedState, status, ref p, settings, ref newState))
                {
                    case RstCheck.Invalid: return Invalid(state, InvalidReason.TcpInvalidRst);
                    case RstCheck.SkipWindow: return Accepted(ref s, d, index, oldState, newState, status, settings);
                }
                break;
        }

        switch (InWindow(ref s, d, index, storedState, ref p, settings, out InvalidReason reason))
        {
            case WindowResult.Ignore:
                return new TcpResult { Verdict = TcpVerdict.Ignore, NewState = state };
            case WindowResult.Invalid:
                var r = Invalid(state, reason);
                HandleInvalid(ref s, d, index, status, settings, remainingMs, ref r);
                return r;
        }
        return Accepted(ref s, d, index, oldState, newState, status, settings);
    }

    /// <summary>The "in_window:" tail of tcp_packet: record the packet, pick the timeout, SEEN_REPLY/ASSURED rules (4.8).</summary>
    private static TcpResult Accepted(ref TcpConnState s, int d, TcpPacketKind index, TcpState oldState, TcpState newState,
                                      CtStatus status, ConntrackSettings settings)
    {
        s.LastIndex = index;
        s.LastDir = d;
        if (oldState != newState && newState == TcpState.FinWait)
            FlagsOf(ref s, d) |= TcpSeenFlags.CloseInit;

        uint[] t = settings.TcpTimeoutMs;
        uint stateTimeout = t[(int)newState];
        uint timeout;
        if (s.Retrans >= settings.TcpMaxRetrans && stateTimeout > t[(int)TcpState.Retrans])
            timeout = t[(int)TcpState.Retrans];
        else if (index == TcpPacketKind.Rst && !settings.TcpRstUnackTimeout)
            timeout = t[(int)TcpState.Close];
        else if (index == TcpPacketKind.Rst && newState != TcpState.Close && stateTimeout > t[(int)TcpState.Unack])
            timeout = t[(int)TcpState.Unack];   // 6.12.117: a non-closing RST gets the UNACK timeout
        else if (((s.OrigFlags | s.ReplyFlags) & TcpSeenFlags.DataUnacknowledged) != 0 && stateTimeout > t[(int)TcpState.Unack])
            timeout = t[(int)TcpState.Unack];
        else if (s.LastWin == 0 && stateTimeout > t[(int)TcpState.Retrans])
            timeout = t[(int)TcpState.Retrans];
        else
            timeout = stateTimeout;

        var r = new TcpResult { Verdict = TcpVerdict.Accept, NewState = newState, TimeoutMs = timeout, RefreshTimer = true };
        if ((status & CtStatus.SeenReply) == 0)
        {
            if (index == TcpPacketKind.Rst)
            {
                // The only answer is a RST: the connection never existed; delete the entry now.
                r.DeleteEntry = true;
                r.RefreshTimer = false;
            }
            else if (index == TcpPacketKind.Syn && oldState == TcpState.SynSent)
            {
                r.RefreshTimer = false;   // a retransmitted SYN does not keep the entry alive
            }
            else if (newState == TcpState.Established && timeout > t[(int)TcpState.Unack])
            {
                r.TimeoutMs = t[(int)TcpState.Unack];   // picked-up connection until the first reply
            }
        }
        else if ((status & CtStatus.Assured) == 0 &&
                 (oldState == TcpState.SynRecv || oldState == TcpState.Established) &&
                 newState == TcpState.Established)
        {
            r.SetAssured = true;
        }
        return r;
    }

    private static TcpResult Invalid(TcpState state, InvalidReason reason)
        => new() { Verdict = TcpVerdict.Invalid, Reason = reason, NewState = state };

    private enum RstCheck : byte { Window, SkipWindow, Invalid }

    /// <summary>4.7.4: what to do with a RST whose table result is CLOSE. May set <paramref name="newState"/> back to the old state.</summary>
    private static RstCheck CheckRst(ref TcpConnState s, int d, TcpState state, CtStatus status, ref ParsedPacket p,
                                     ConntrackSettings settings, ref TcpState newState)
    {
        // Closing states: the tuple may be reused already and our sequence data is stale.
        if (IsClosing(state)) return RstCheck.SkipWindow;

        int o = d ^ 1;
        bool established = state == TcpState.Established && (status & CtStatus.Assured) != 0;
        if ((s.Flags(o) & TcpSeenFlags.MaxAckSet) != 0 && s.LastIndex != TcpPacketKind.Syn)
        {
            uint seq = p.Seq;
            uint peerMaxAck = s.Seen(o).MaxAck;
            if (seq == 0 && !established) return RstCheck.Window;   // most likely answers a SYN we let through
            if (Before(seq, peerMaxAck) && !settings.TcpIgnoreInvalidRst) return RstCheck.Invalid;
            if (!established || seq == peerMaxAck) return RstCheck.Window;
            if (s.LastIndex == TcpPacketKind.Ack && s.LastDir == d && seq == s.LastEnd) return RstCheck.Window;   // RST train
            newState = state;   // in window but not exact: keep the state so a challenge ACK can pass
        }

        if ((((status & CtStatus.SeenReply) != 0 && s.LastIndex == TcpPacketKind.Syn) ||
             ((status & CtStatus.Assured) == 0 && s.LastIndex == TcpPacketKind.Ack)) &&
            p.Ack == s.LastEnd)
            return RstCheck.SkipWindow;   // RST answering an ignored SYN, or an ACK of a half-open entry

        if (state == TcpState.SynSent && s.LastIndex == TcpPacketKind.Ack && s.LastDir == Repl && p.Seq == s.LastAck)
            return RstCheck.SkipWindow;   // RST answering the challenge ACK we let through

        return RstCheck.Window;
    }

    /// <summary>tcp_can_early_drop(): FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE.</summary>
    public static bool IsClosing(TcpState state)
        => state is TcpState.FinWait or TcpState.CloseWait or TcpState.LastAck or TcpState.TimeWait or TcpState.Close;

    /// <summary>Records an ignored packet (table IG, or the non-reopening SYN of 4.7.1) as the kernel does.</summary>
    private static void RecordIgnored(ref TcpConnState s, int d, TcpPacketKind index, TcpState oldState, ref ParsedPacket p)
    {
        s.LastIndex = index;
        s.LastDir = d;
        s.LastSeq = p.Seq;
        s.LastEnd = SegmentEnd(ref p);
        s.LastWin = p.Window;

        if (index == TcpPacketKind.Syn && d == Orig)
        {
            // Remember the SYN's options in case the server answers it (resync).
            s.LastFlags = 0;
            s.LastWscale = 0;
            if (HasOptions(ref p))
            {
                if (p.WindowScale >= 0)
                {
                    s.LastFlags |= TcpSeenFlags.WindowScale;
                    s.LastWscale = CapScale(p.WindowScale);
                }
                if (p.SackPermitted) s.LastFlags |= TcpSeenFlags.SackPerm;
            }
            if (oldState == TcpState.LastAck) s.LastFlags |= TcpSeenFlags.ExpChallengeAck;
        }

        if (oldState == TcpState.SynSent && index == TcpPacketKind.Ack && d == Repl)
            s.LastAck = p.Ack;   // possibly a challenge ACK answering the SYN
    }

    /// <summary>The resynchronisation of 4.7.2: rebuild the ignored SYN's sender from last_*, reset the SYN-ACK's sender.</summary>
    private static void Resync(ref TcpConnState s, int d)
    {
        int ld = s.LastDir;
        ref TcpSeen synSender = ref SeenOf(ref s, ld);
        synSender.End = s.LastEnd;
        synSender.MaxEnd = s.LastEnd;
        synSender.MaxWin = s.LastWin == 0 ? 1u : s.LastWin;
        s.SetScale(ld, s.LastWscale);
        s.LastFlags &= unchecked((byte)~TcpSeenFlags.ExpChallengeAck);
        FlagsOf(ref s, ld) = s.LastFlags;

        ref TcpSeen own = ref SeenOf(ref s, d);
        own = default;
        s.SetScale(d, 0);
        FlagsOf(ref s, d) &= TcpSeenFlags.BeLiberal;
    }

    /// <summary>nf_tcp_handle_invalid(): an out-of-window FIN/RST answering a FIN/RST shortens an ASSURED entry's timeout.</summary>
    private static void HandleInvalid(ref TcpConnState s, int d, TcpPacketKind index, CtStatus status,
                                      ConntrackSettings settings, uint remainingMs, ref TcpResult r)
    {
        if ((status & CtStatus.Assured) == 0 || (status & CtStatus.FixedTimeout) != 0) return;
        if (index != TcpPacketKind.Rst && index != TcpPacketKind.Fin) return;

        if (s.LastDir != d && (s.LastIndex == TcpPacketKind.Fin || s.LastIndex == TcpPacketKind.Rst))
        {
            if (remainingMs < 120_000) return;
            uint timeout = settings.TcpTimeoutMs[(int)TcpState.Unack];
            if (remainingMs > timeout)
            {
                r.ShortenTimeout = true;
                r.TimeoutMs = timeout;
            }
        }
        else
        {
            s.LastIndex = index;
            s.LastDir = d;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref TcpSeen SeenOf(ref TcpConnState s, int dir)
        => ref dir == 0 ? ref s.OrigSeen : ref s.ReplySeen;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte FlagsOf(ref TcpConnState s, int dir)
        => ref dir == 0 ? ref s.OrigFlags : ref s.ReplyFlags;

    /// <summary>before(a, b) of the kernel: a is before b modulo 2^32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Before(uint a, uint b) => (int)(a - b) < 0;

    /// <summary>after(a, b) of the kernel: a is after b modulo 2^32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool After(uint a, uint b) => (int)(b - a) < 0;
}
