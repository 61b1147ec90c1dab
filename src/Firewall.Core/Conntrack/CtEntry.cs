using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Conntrack.Gre;
using Firewall.Core.Conntrack.Sctp;
using Firewall.Core.Conntrack.Tcp;

namespace Firewall.Core.Conntrack;

/// <summary>
/// One connection, 112 bytes, stored by value in the table's preallocated array and addressed by index.
/// <para>Concurrency: <see cref="Version"/> is a per-entry sequence word. Even = stable, odd = a commit is being
/// written. Every change to the tracked fields (status, state, deadline, protocol data) is published by
/// CAS(Version, v, v+1), write, store v+2 — so a thread that read the entry at version v and later wins that CAS
/// knows nothing changed in between; one that loses re-reads. The tuple is immutable while the entry lives; killing
/// and reusing an entry also bump the version, so a stale index reference is detected. The wheel links and
/// <see cref="Misc"/> belong to the owning worker alone and are never written by a commit.</para>
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
internal struct CtEntry
{
    [FieldOffset(0)] public ConnTuple Orig;
    [FieldOffset(40)] public int Version;
    [FieldOffset(44)] public ushort Status;
    /// <summary>TCP: <see cref="TcpState"/>; SCTP: its state; others 0.</summary>
    [FieldOffset(46)] public byte State;
    /// <summary>Owner-only bits: 0–2 owner worker, 3 linked in a wheel, 4 linked in the ASSURED wheel, 5–6 helper id, 7 unused.</summary>
    [FieldOffset(47)] public byte Misc;
    /// <summary>Absolute deadline on the engine's 32-bit millisecond clock (wrap-safe compare). While unconfirmed: the pending timeout.
    /// After death: the link of the owner's reclaim stack.</summary>
    [FieldOffset(48)] public uint Deadline;
    [FieldOffset(52)] public int WheelNext;
    /// <summary>Previous entry in the wheel slot list, or -(slot + 2) for the head of a slot.</summary>
    [FieldOffset(56)] public int WheelPrev;
    [FieldOffset(60)] public TcpConnState Tcp;
    /// <summary>UDP/UDP-Lite/GRE/SCTP/ICMP/generic: creation time (ms clock).</summary>
    [FieldOffset(60)] public uint Created;
    /// <summary>SCTP: verification tags and INIT / heartbeat flags (12 bytes, after <see cref="Created"/>).</summary>
    [FieldOffset(64)] public SctpConnState Sctp;
    /// <summary>GRE: the entry's own timeouts (8 bytes, after <see cref="Created"/>).</summary>
    [FieldOffset(64)] public GreConnState Gre;
    /// <summary>Protocol data for later trackers (overlays <see cref="Sctp"/> / <see cref="Gre"/>).</summary>
    [FieldOffset(64)] public uint Aux0;
    [FieldOffset(68)] public uint Aux1;
    [FieldOffset(72)] public uint Aux2;

    public const byte OwnerMask = 0x07;
    public const byte InWheelBit = 0x08;
    public const byte AssuredWheelBit = 0x10;
    public const int HelperShift = 5;

    public readonly CtStatus StatusFlags
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (CtStatus)Status;
    }

    public readonly int Owner => Misc & OwnerMask;
    public readonly byte HelperId => (byte)((Misc >> HelperShift) & 0x3);
}
