namespace Firewall.Core.Conntrack;

public enum CtEventType : byte
{
    New = 1,
    Update = 2,
    Destroy = 3,
}

/// <summary>One conntrack event (as <c>conntrack -E</c> shows it), copied out of the entry when it happened.</summary>
public struct CtEvent
{
    public CtEventType Type;
    public ConnTuple Orig;
    public TcpState TcpState;
    public byte ProtoState;
    public CtStatus Status;
    /// <summary>Remaining timeout in ms at the time of the event; uint.MaxValue when none is shown (DESTROY after expiry).</summary>
    public uint TimeoutMs;
    public byte HelperId;
    /// <summary>Engine time (ns) of the event.</summary>
    public long TimeNs;
}
