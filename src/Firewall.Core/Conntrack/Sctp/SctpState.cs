namespace Firewall.Core.Conntrack.Sctp;

/// <summary>
/// SCTP conntrack states with the kernel's numbers (enum sctp_conntrack). HEARTBEAT_ACKED (9) was removed from the
/// state machine (Linux 6.2); the running 6.18 kernel has no sysctl for it and never enters it. <see cref="Max"/> is
/// the transition table's "invalid" marker (sIV).
/// </summary>
public enum SctpState : byte
{
    None = 0,
    Closed = 1,
    CookieWait = 2,
    CookieEchoed = 3,
    Established = 4,
    ShutdownSent = 5,
    ShutdownRecd = 6,
    ShutdownAckSent = 7,
    HeartbeatSent = 8,
    /// <summary>"sIV" in the transition table: the packet is invalid.</summary>
    Max = 10,
}

public static class SctpStateNames
{
    /// <summary>The name /proc/net/nf_conntrack and conntrack -L print.</summary>
    public static string Name(SctpState s) => s switch
    {
        SctpState.None => "NONE",
        SctpState.Closed => "CLOSED",
        SctpState.CookieWait => "COOKIE_WAIT",
        SctpState.CookieEchoed => "COOKIE_ECHOED",
        SctpState.Established => "ESTABLISHED",
        SctpState.ShutdownSent => "SHUTDOWN_SENT",
        SctpState.ShutdownRecd => "SHUTDOWN_RECD",
        SctpState.ShutdownAckSent => "SHUTDOWN_ACK_SENT",
        SctpState.HeartbeatSent => "HEARTBEAT_SENT",
        _ => "UNKNOWN",
    };
}

/// <summary>SCTP chunk types the tracker looks at (RFC 9260 §3.2).</summary>
public static class SctpChunkType
{
    public const byte Data = 0;
    public const byte Init = 1;
    public const byte InitAck = 2;
    public const byte Sack = 3;
    public const byte Heartbeat = 4;
    public const byte HeartbeatAck = 5;
    public const byte Abort = 6;
    public const byte Shutdown = 7;
    public const byte ShutdownAck = 8;
    public const byte Error = 9;
    public const byte CookieEcho = 10;
    public const byte CookieAck = 11;
    public const byte ShutdownComplete = 14;

    /// <summary>The T bit of ABORT and SHUTDOWN COMPLETE: the verification tag is the peer's (reflected) tag.</summary>
    public const byte FlagT = 0x01;
}
