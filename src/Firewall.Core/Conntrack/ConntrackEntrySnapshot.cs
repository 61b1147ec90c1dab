using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>A copy of one entry for listings and the control plane.</summary>
public readonly struct ConntrackEntrySnapshot
{
    public int Index { get; init; }
    public ConnTuple Orig { get; init; }
    public ConnTuple Reply { get; init; }
    public CtStatus Status { get; init; }
    /// <summary>TCP state (TCP entries), or the protocol's state byte.</summary>
    public byte State { get; init; }
    public uint RemainingMs { get; init; }
    public byte HelperId { get; init; }
    public int Master { get; init; }
    /// <summary>GRE entries: the entry's unreplied and stream timeouts (ms), as /proc prints them; 0 otherwise.</summary>
    public uint GreTimeoutMs { get; init; }
    public uint GreStreamTimeoutMs { get; init; }

    public byte Proto => Orig.Proto;
    public TcpState TcpState => Orig.Proto == IpProto.Tcp ? (TcpState)State : TcpState.None;

    internal static ConntrackEntrySnapshot From(int index, in CtEntry e, uint now, int master)
    {
        e.Orig.TryInvert(out var reply);
        return new ConntrackEntrySnapshot
        {
            Index = index,
            Orig = e.Orig,
            Reply = reply,
            Status = (CtStatus)e.Status,
            State = e.State,
            RemainingMs = TimeMath.Remaining(e.Deadline, now),
            HelperId = e.HelperId,
            Master = master,
            GreTimeoutMs = e.Orig.Proto == IpProto.Gre ? e.Gre.TimeoutMs : 0,
            GreStreamTimeoutMs = e.Orig.Proto == IpProto.Gre ? e.Gre.StreamTimeoutMs : 0,
        };
    }
}
