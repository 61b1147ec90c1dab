namespace Firewall.Core.Conntrack;

/// <summary>
/// What the state match sees. The values are the bits of iptables' <c>-m state</c> / <c>--ctstate</c>
/// (INVALID=1, ESTABLISHED=2, RELATED=4, NEW=8, UNTRACKED=64), so a rule's state list is a bit mask.
/// </summary>
public enum CtState : byte
{
    Invalid = 1,
    Established = 2,
    Related = 4,
    New = 8,
    Untracked = 64,
}

/// <summary>Direction of a packet relative to the entry: ORIGINAL (index 0) created it, REPLY (1) is the other way.</summary>
public enum CtDirection : byte
{
    Original = 0,
    Reply = 1,
}

/// <summary>Entry status bits, with the kernel's values (enum ip_conntrack_status).</summary>
[Flags]
public enum CtStatus : ushort
{
    None = 0,
    Expected = 0x1,
    SeenReply = 0x2,
    Assured = 0x4,
    Confirmed = 0x8,
    Dying = 0x200,
    FixedTimeout = 0x400,
    /// <summary>Insertion-clash loser (kernel NAT_CLASH 0x1000): never made ASSURED.</summary>
    NatClash = 0x1000,
    Helper = 0x2000,
}

/// <summary>TCP conntrack states with the kernel's numbers (enum tcp_conntrack). Max/Ignore/Retrans/Unack are table markers and timeout pseudo-states.</summary>
public enum TcpState : byte
{
    None = 0,
    SynSent = 1,
    SynRecv = 2,
    Established = 3,
    FinWait = 4,
    CloseWait = 5,
    LastAck = 6,
    TimeWait = 7,
    Close = 8,
    SynSent2 = 9,
    /// <summary>"IV" in the transition table: the packet is invalid.</summary>
    Max = 10,
    /// <summary>"IG" in the transition table: the packet is ignored.</summary>
    Ignore = 11,
    Retrans = 12,
    Unack = 13,
}

public static class TcpStateNames
{
    /// <summary>The name /proc/net/nf_conntrack prints.</summary>
    public static string Name(TcpState s) => s switch
    {
        TcpState.None => "NONE",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynRecv => "SYN_RECV",
        TcpState.Established => "ESTABLISHED",
        TcpState.FinWait => "FIN_WAIT",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.LastAck => "LAST_ACK",
        TcpState.TimeWait => "TIME_WAIT",
        TcpState.Close => "CLOSE",
        TcpState.SynSent2 => "SYN_SENT2",
        _ => "UNKNOWN",
    };
}

public static class CtStateNames
{
    public static string Name(CtState s) => s switch
    {
        CtState.Invalid => "INVALID",
        CtState.Established => "ESTABLISHED",
        CtState.Related => "RELATED",
        CtState.New => "NEW",
        CtState.Untracked => "UNTRACKED",
        _ => "UNKNOWN",
    };
}
