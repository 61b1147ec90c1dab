using System.Runtime.InteropServices;

namespace Firewall.Core.Conntrack.Expect;

[Flags]
public enum ExpectFlags : byte
{
    None = 0,
    /// <summary>The source address is a wildcard (mask 0).</summary>
    SrcAddrAny = 0x1,
    /// <summary>The source port is a wildcard (mask 0).</summary>
    SrcPortAny = 0x2,
    /// <summary>Not consumed on use.</summary>
    Permanent = 0x4,
    /// <summary>Not yet usable.</summary>
    Inactive = 0x8,
}

/// <summary>One expectation (reference §8.1): "a future connection matching this pattern belongs to master M".</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Expectation
{
    /// <summary>Expected original tuple of the new connection; Src/SrcId are ignored where the flags make them wildcards.</summary>
    public ConnTuple Tuple;
    public int Version;      // even = stable; bumped by every change (claim, consume, free)
    public int Master;
    public uint Deadline;
    public uint Serial;      // creation order: the oldest is evicted first
    public byte Live;
    public ExpectFlags Flags;
    public byte HelperId;
    public byte Class;
}

/// <summary>A copy of one expectation for listings (conntrack -L expect).</summary>
public readonly struct ExpectationSnapshot
{
    public ConnTuple Tuple { get; init; }
    public ExpectFlags Flags { get; init; }
    public uint RemainingMs { get; init; }
    public byte HelperId { get; init; }
    public byte Class { get; init; }
    public int Master { get; init; }
    public ConnTuple MasterOrig { get; init; }
}
