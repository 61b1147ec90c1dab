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
    public TcpState NewState;
    /// <summary>Timeout to arm when <see cref="RefreshTimer"/> (milliseconds).</summary>
    public uint TimeoutMs;
    public bool RefreshTimer;
    /// <summary>Set ASSURED (4.8 step 4).</summary>
    public bool SetAssured;
    /// <summary>RST on an entry that never saw a reply: accept the packet, then delete the entry at once.</summary>
    public bool DeleteEntry;
    /// <summary>Invalid FIN/RST answering a FIN/RST on an ASSURED entry: if more than 120 s remain, lower the remaining timeout to TimeoutMs.</summary>
    public bool ShortenTimeout;
}

/// <summary>
/// The kernel's TCP tracker (nf_conntrack_proto_tcp.c) as pure functions over <see cref="TcpConnState"/>.
/// </summary>
public static partial class TcpTracker
{
}
