using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firewall.Core.Conntrack.Sctp;

/// <summary>
/// Per-connection SCTP data (the kernel's struct ip_ct_sctp without the state, which lives in the entry's state byte):
/// the verification tag expected in each direction, which side sent an INIT, and the heartbeat re-tagging flag.
/// 12 bytes; direction-indexed accessors take 0 = ORIGINAL, 1 = REPLY.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
public struct SctpConnState
{
    /// <summary>vtag[ORIGINAL]: the tag packets in the original direction must carry.</summary>
    [FieldOffset(0)] public uint VtagOriginal;
    /// <summary>vtag[REPLY].</summary>
    [FieldOffset(4)] public uint VtagReply;
    /// <summary>Bits: <see cref="InitOriginal"/>, <see cref="InitReply"/>, <see cref="HeartbeatVtagFailed"/>, <see cref="LastDirReply"/>.</summary>
    [FieldOffset(8)] public byte Flags;

    /// <summary>init[ORIGINAL]: an INIT was seen in the original direction (cleared by COOKIE ACK).</summary>
    public const byte InitOriginal = 0x01;
    public const byte InitReply = 0x02;
    /// <summary>SCTP_FLAG_HEARTBEAT_VTAG_FAILED: a HEARTBEAT with an unknown tag was let through (multihoming re-tag).</summary>
    public const byte HeartbeatVtagFailed = 0x04;
    /// <summary>last_dir: direction of that HEARTBEAT (set = REPLY).</summary>
    public const byte LastDirReply = 0x08;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly uint Vtag(int dir) => dir == 0 ? VtagOriginal : VtagReply;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetVtag(int dir, uint tag)
    {
        if (dir == 0) VtagOriginal = tag; else VtagReply = tag;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Init(int dir) => (Flags & (dir == 0 ? InitOriginal : InitReply)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetInit(int dir, bool on)
    {
        byte bit = dir == 0 ? InitOriginal : InitReply;
        Flags = on ? (byte)(Flags | bit) : (byte)(Flags & ~bit);
    }

    public int LastDir
    {
        readonly get => (Flags & LastDirReply) != 0 ? 1 : 0;
        set => Flags = value != 0 ? (byte)(Flags | LastDirReply) : (byte)(Flags & ~LastDirReply);
    }

    public readonly bool Equals(in SctpConnState o) => VtagOriginal == o.VtagOriginal && VtagReply == o.VtagReply && Flags == o.Flags;
}
