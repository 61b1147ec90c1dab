namespace Firewall.Core.Conntrack;

/// <summary>Per-packet options decided before tracking (by the raw table): zone, NOTRACK, helper template.</summary>
public struct TrackOptions
{
    /// <summary>Zone for the lookup and for a new entry (-1 = the table's default zone).</summary>
    public int Zone;
    /// <summary>Raw-table NOTRACK / CT --notrack: the packet is UNTRACKED and conntrack does nothing.</summary>
    public bool NoTrack;
    /// <summary>Raw-table CT --helper NAME: helper id to attach if this packet creates an entry (0 = none).</summary>
    public byte HelperId;
    /// <summary>True when the packet was received (PREROUTING): checksums are verified only then, as in the kernel.</summary>
    public bool VerifyChecksum;

    public static TrackOptions Received => new() { Zone = -1, VerifyChecksum = true };
    public static TrackOptions LocallyGenerated => new() { Zone = -1, VerifyChecksum = false };
}

/// <summary>The classification of one packet, and the handle the caller needs to confirm or release a new entry.</summary>
public struct TrackResult
{
    public CtState State;
    public CtDirection Direction;
    /// <summary>For INVALID, and for <see cref="Drop"/>: why.</summary>
    public InvalidReason Reason;
    /// <summary>Conntrack itself drops the packet (table full, insertion failure): the rules never see it.</summary>
    public bool Drop;
    /// <summary>Entry status as the rules see it (CONFIRMED clear for a flow's first packet).</summary>
    public CtStatus Status;
    /// <summary>The connection's TCP state after this packet (None for other protocols or without an entry).</summary>
    public TcpState TcpState;
    /// <summary>Protocol-specific state byte for SCTP and friends (0 otherwise).</summary>
    public byte ProtoState;
    /// <summary>Remaining lifetime in ms after this packet (0 for an unconfirmed entry, as --ctexpire reads it).</summary>
    public uint ExpiresInMs;
    /// <summary>Helper attached to the entry (0 none).</summary>
    public byte HelperId;
    /// <summary>Entry index, -1 when the packet has no entry (INVALID, UNTRACKED).</summary>
    public int Entry;
    /// <summary>True when this packet created a new, still unconfirmed entry: the caller must Confirm (accepted) or Release (dropped) it.</summary>
    public bool IsNew;
    internal int Version;
    /// <summary>For a new entry: the hashes of its original and reply tuples, computed by Track, reused by Confirm.</summary>
    internal ulong Hash, ReplyHash;

    public readonly bool HasEntry => Entry >= 0;
}
