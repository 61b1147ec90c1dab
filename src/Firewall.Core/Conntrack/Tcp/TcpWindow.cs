using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack.Tcp;

// Window tracking (the kernel's tcp_in_window and its helpers), conntrack-reference.md §4.6.
public static partial class TcpTracker
{
    /// <summary>MAXACKWINCONST: the smallest lower-ACK window (check IV).</summary>
    public const uint MaxAckWinConst = 66000;
    /// <summary>TCP_MAX_WSCALE.</summary>
    public const int MaxWindowScale = 14;

    private enum WindowResult : byte { Accept, Ignore, Invalid }

    /// <summary>seq + payload length + SYN + FIN (segment_seq_plus_len).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint SegmentEnd(ref ParsedPacket p)
    {
        // The kernel uses skb->len - dataoff - doff*4: the L4 length per the IP header minus the TCP header.
        uint len = (uint)(p.L4Length - p.TcpHeaderLength);
        byte f = p.TcpFlagBits;
        return p.Seq + len + ((f & FlagSyn) != 0 ? 1u : 0u) + ((f & FlagFin) != 0 ? 1u : 0u);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HasOptions(ref ParsedPacket p) => p.TcpHeaderLength > 20;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CapScale(sbyte ws) => ws > MaxWindowScale ? MaxWindowScale : ws;

    /// <summary>
    /// tcp_options(): window scale and SACK-permitted into seen[dir]. As in the kernel, a header without options
    /// leaves the old scale and flags alone; otherwise scale and all flags but BE_LIBERAL are cleared first.
    /// </summary>
    private static void ApplyOptions(ref TcpConnState s, int dir, ref ParsedPacket p)
    {
        if (!HasOptions(ref p)) return;
        ref byte flags = ref FlagsOf(ref s, dir);
        flags &= TcpSeenFlags.BeLiberal;
        int scale = 0;
        if (p.WindowScale >= 0)
        {
            scale = CapScale(p.WindowScale);
            flags |= TcpSeenFlags.WindowScale;
        }
        if (p.SackPermitted) flags |= TcpSeenFlags.SackPerm;
        s.SetScale(dir, scale);
    }

    /// <summary>tcp_init_sender(): a SYN or SYN-ACK (re)initialises its sender's window data.</summary>
    private static void InitSender(ref TcpConnState s, int d, uint end, uint win, ref ParsedPacket p)
    {
        ref TcpSeen snd = ref SeenOf(ref s, d);
        snd.End = snd.MaxEnd = end;
        snd.MaxWin = win == 0 ? 1u : win;
        ApplyOptions(ref s, d, ref p);
        // RFC 1323: scaling only when both sides offer it.
        if (d == Repl &&
            !((FlagsOf(ref s, d) & TcpSeenFlags.WindowScale) != 0 && (FlagsOf(ref s, d ^ 1) & TcpSeenFlags.WindowScale) != 0))
        {
            s.SetScale(d, 0);
            s.SetScale(d ^ 1, 0);
        }
    }

    /// <summary>tcp_sack(): the highest right edge among the SACK blocks, if after <paramref name="sack"/>.</summary>
    private static uint HighestSack(ref ParsedPacket p, uint sack)
    {
        int off = p.SackBlocksOffset;
        int n = p.SackBlockCount;
        ReadOnlySpan<byte> frame = p.Frame;
        if (n <= 0 || off < 0 || (long)off + 8L * n > frame.Length) return sack;
        for (int i = 0; i < n; i++)
        {
            uint right = BinaryPrimitives.ReadUInt32BigEndian(frame.Slice(off + i * 8 + 4, 4));
            if (After(right, sack)) sack = right;
        }
        return sack;
    }

    /// <summary>tcp_in_window(): steps A–D of §4.6. Mutates the window data where the kernel does.</summary>
    private static WindowResult InWindow(ref TcpConnState s, int d, TcpPacketKind index, TcpState state,
                                         ref ParsedPacket p, ConntrackSettings settings, out InvalidReason reason)
    {
        reason = InvalidReason.None;
        ref TcpSeen snd = ref SeenOf(ref s, d);
        ref TcpSeen rcv = ref SeenOf(ref s, d ^ 1);
        byte flags = p.TcpFlagBits;
        bool syn = (flags & FlagSyn) != 0, hasAck = (flags & FlagAck) != 0, rst = (flags & FlagRst) != 0;

        uint seq = p.Seq;
        uint ack = p.Ack, sack = ack;
        ushort winRaw = p.Window;
        uint win = winRaw;
        uint end = SegmentEnd(ref p);

        if ((FlagsOf(ref s, d ^ 1) & TcpSeenFlags.SackPerm) != 0)
            sack = HighestSack(ref p, sack);

        // Step A: initialisation.
        if (snd.MaxWin == 0)
        {
            if (syn)
            {
                InitSender(ref s, d, end, win, ref p);
                if (!hasAck) return WindowResult.Accept;   // simultaneous open
            }
            else
            {
                // Mid-stream: the first packet seen from this side.
                snd.End = end;
                uint swin = win << s.Scale(d);
                snd.MaxWin = swin == 0 ? 1u : swin;
                snd.MaxEnd = end + snd.MaxWin;
                if (rcv.MaxWin == 0)
                    rcv.End = rcv.MaxEnd = sack;
                else if (sack == rcv.End + 1)
                    rcv.End++;   // likely the answer to a keep-alive
            }
        }
        else if (syn && After(end, snd.End) && (state == TcpState.SynSent || state == TcpState.SynRecv))
        {
            // A new SYN / SYN-ACK with a fresh ISN or options replaces the old one.
            InitSender(ref s, d, end, win, ref p);
            if (d == Repl && !hasAck) return WindowResult.Accept;
        }

        // Step B: normalise ACK.
        if (!hasAck)
            ack = sack = rcv.End;
        else if (rst && ack == 0)
            ack = sack = rcv.End;   // broken stacks: RST+ACK with a zero ACK value
        if (rst && seq == 0 && state == TcpState.SynSent)
            seq = end = snd.End;    // RST answering a SYN

        bool liberal = settings.TcpBeLiberal || (FlagsOf(ref s, d) & TcpSeenFlags.BeLiberal) != 0;
        uint maxAckWindow = snd.MaxWin > MaxAckWinConst ? snd.MaxWin : MaxAckWinConst;

        // Step C: the four checks.
        if (!Before(seq, snd.MaxEnd + 1))
        {
            uint overshot = end - snd.MaxEnd + 1;
            bool ackOk = After(sack, rcv.End - maxAckWindow - 1);
            bool inRecvWin = rcv.MaxWin != 0 && After(end, snd.End - rcv.MaxWin - 1);
            if (inRecvWin && ackOk && overshot <= rcv.MaxWin && Before(sack, rcv.End + 1))
            {
                // The sender sent a little more than the window allows: remember it so the peer's ACK passes check II.
                snd.End = end;
                FlagsOf(ref s, d) |= TcpSeenFlags.DataUnacknowledged;
                return liberal ? WindowResult.Accept : WindowResult.Ignore;
            }
            if (liberal) return WindowResult.Accept;
            reason = InvalidReason.TcpSeqOverUpperBound;
            return WindowResult.Invalid;
        }
        if (!Before(sack, rcv.End + 1))
        {
            if (liberal) return WindowResult.Accept;
            reason = InvalidReason.TcpAckOverUpperBound;
            return WindowResult.Invalid;
        }
        if (rcv.MaxWin != 0 && !After(end, snd.End - rcv.MaxWin - 1))
            return liberal ? WindowResult.Accept : WindowResult.Ignore;   // SEQ under lower bound (old retransmission)
        if (!After(sack, rcv.End - maxAckWindow - 1))
            return liberal ? WindowResult.Accept : WindowResult.Ignore;   // ACK under lower bound (overly delayed)

        // Step D: updates.
        if (!syn) win <<= s.Scale(d);

        uint swin2 = win + (sack - ack);
        if (snd.MaxWin < swin2) snd.MaxWin = swin2;
        if (After(end, snd.End))
        {
            snd.End = end;
            FlagsOf(ref s, d) |= TcpSeenFlags.DataUnacknowledged;
        }
        if (hasAck)
        {
            ref byte sf = ref FlagsOf(ref s, d);
            if ((sf & TcpSeenFlags.MaxAckSet) == 0)
            {
                snd.MaxAck = ack;
                sf |= TcpSeenFlags.MaxAckSet;
            }
            else if (After(ack, snd.MaxAck))
            {
                snd.MaxAck = ack;
            }
        }

        if (rcv.MaxWin != 0 && After(end, snd.MaxEnd))
            rcv.MaxWin += end - snd.MaxEnd;
        if (After(sack + win, rcv.MaxEnd - 1))
        {
            rcv.MaxEnd = sack + win;
            if (win == 0) rcv.MaxEnd++;
        }
        if (ack == rcv.End)
            FlagsOf(ref s, d ^ 1) &= unchecked((byte)~TcpSeenFlags.DataUnacknowledged);

        // Retransmission counter (ACK-kind packets only).
        if (index == TcpPacketKind.Ack)
        {
            if (s.LastDir == d && s.LastSeq == seq && s.LastAck == ack && s.LastEnd == end && s.LastWin == winRaw)
            {
                s.Retrans++;
            }
            else
            {
                s.LastDir = d;
                s.LastSeq = seq;
                s.LastAck = ack;
                s.LastEnd = end;
                s.LastWin = winRaw;
                s.Retrans = 0;
            }
        }
        return WindowResult.Accept;
    }
}
