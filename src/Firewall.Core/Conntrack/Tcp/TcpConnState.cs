using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firewall.Core.Conntrack.Tcp;

/// <summary>
/// Per-connection TCP tracking data (the kernel's struct ip_ct_tcp), packed into 52 bytes so that a
/// whole conntrack entry stays at 112 bytes. Direction-indexed accessors take 0 = ORIGINAL, 1 = REPLY.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 52)]
public struct TcpConnState
{
    // seen[dir]: td_end, td_maxend, td_maxwin, td_maxack
    [FieldOffset(0)] public uint OrigEnd;
    [FieldOffset(4)] public uint OrigMaxEnd;
    [FieldOffset(8)] public uint OrigMaxWin;
    [FieldOffset(12)] public uint OrigMaxAck;
    [FieldOffset(16)] public uint ReplyEnd;
    [FieldOffset(20)] public uint ReplyMaxEnd;
    [FieldOffset(24)] public uint ReplyMaxWin;
    [FieldOffset(28)] public uint ReplyMaxAck;
    /// <summary>seen[0] as one record (overlays OrigEnd … OrigMaxAck).</summary>
    [FieldOffset(0)] public TcpSeen OrigSeen;
    /// <summary>seen[1] as one record (overlays ReplyEnd … ReplyMaxAck).</summary>
    [FieldOffset(16)] public TcpSeen ReplySeen;
    /// <summary>seen[dir].flags: WINDOW_SCALE 0x01, SACK_PERM 0x02, CLOSE_INIT 0x04, BE_LIBERAL 0x08, DATA_UNACKNOWLEDGED 0x10, MAXACK_SET 0x20.</summary>
    [FieldOffset(32)] public byte OrigFlags;
    [FieldOffset(33)] public byte ReplyFlags;
    /// <summary>seen[0].td_scale in the low nibble, seen[1].td_scale in the high nibble.</summary>
    [FieldOffset(34)] public byte Scales;
    [FieldOffset(35)] public byte Retrans;
    [FieldOffset(36)] public uint LastSeq;
    [FieldOffset(40)] public uint LastAck;
    [FieldOffset(44)] public uint LastEnd;
    [FieldOffset(48)] public ushort LastWin;
    /// <summary>Bits 0–2: last_index (packet kind), bit 3: last_dir, bits 4–7: last_wscale.</summary>
    [FieldOffset(50)] public byte LastInfo;
    /// <summary>last_flags: WINDOW_SCALE 0x01, SACK_PERM 0x02, EXP_CHALLENGE_ACK 0x40, SIMULTANEOUS_OPEN 0x80 (the kernel's bit values).</summary>
    [FieldOffset(51)] public byte LastFlags;

    /// <summary>last_index: kind of the last packet recorded (see <see cref="TcpPacketKind"/>).</summary>
    public TcpPacketKind LastIndex
    {
        readonly get => (TcpPacketKind)(LastInfo & 0x07);
        set => LastInfo = (byte)((LastInfo & ~0x07) | ((int)value & 0x07));
    }

    /// <summary>last_dir: 0 = ORIGINAL, 1 = REPLY.</summary>
    public int LastDir
    {
        readonly get => (LastInfo >> 3) & 1;
        set => LastInfo = (byte)((LastInfo & ~0x08) | ((value & 1) << 3));
    }

    /// <summary>last_wscale: window scale of the last ignored original-direction SYN (0–14).</summary>
    public int LastWscale
    {
        readonly get => LastInfo >> 4;
        set => LastInfo = (byte)((LastInfo & 0x0f) | ((value & 0x0f) << 4));
    }

    /// <summary>seen[dir].td_scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Scale(int dir) => dir == 0 ? Scales & 0x0f : Scales >> 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetScale(int dir, int scale)
    {
        scale &= 0x0f;
        Scales = dir == 0 ? (byte)((Scales & 0xf0) | scale) : (byte)((Scales & 0x0f) | (scale << 4));
    }

    /// <summary>seen[dir].flags.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly byte Flags(int dir) => dir == 0 ? OrigFlags : ReplyFlags;

    /// <summary>seen[dir] as a record, for reading.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly TcpSeen Seen(int dir) => dir == 0 ? OrigSeen : ReplySeen;
}

/// <summary>One direction's window data (the kernel's td_end, td_maxend, td_maxwin, td_maxack).</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public struct TcpSeen
{
    /// <summary>Highest seq + segment length sent by this side.</summary>
    public uint End;
    /// <summary>Highest right edge of the window the other side advertised (upper limit for this side's seq).</summary>
    public uint MaxEnd;
    /// <summary>Largest (scaled) window this side advertised; 0 = nothing recorded yet.</summary>
    public uint MaxWin;
    /// <summary>Highest ACK this side sent (valid once MAXACK_SET).</summary>
    public uint MaxAck;
}

/// <summary>The per-direction flag bits of <see cref="TcpConnState"/> (IP_CT_TCP_FLAG_*) and the last_flags bits.</summary>
public static class TcpSeenFlags
{
    public const byte WindowScale = 0x01;
    public const byte SackPerm = 0x02;
    public const byte CloseInit = 0x04;
    public const byte BeLiberal = 0x08;
    public const byte DataUnacknowledged = 0x10;
    public const byte MaxAckSet = 0x20;
    /// <summary>last_flags only: an RFC 5961 challenge ACK is expected (SYN ignored in LAST_ACK).</summary>
    public const byte ExpChallengeAck = 0x40;
    /// <summary>last_flags only: simultaneous open seen (SYN_SENT2 entered).</summary>
    public const byte SimultaneousOpen = 0x80;
}

/// <summary>The transition table's column (the kernel's enum tcp_bit_set), decided from the flags (4.2).</summary>
public enum TcpPacketKind : byte
{
    Syn = 0,
    SynAck = 1,
    Fin = 2,
    Ack = 3,
    Rst = 4,
    None = 5,
}
