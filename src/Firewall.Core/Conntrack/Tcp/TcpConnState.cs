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
    /// <summary>last_flags: WINDOW_SCALE 0x01, SACK_PERM 0x02, EXP_CHALLENGE_ACK 0x40, SIMULTANEOUS_OPEN 0x80 (the kernel's bit values where it has them).</summary>
    [FieldOffset(51)] public byte LastFlags;
}
