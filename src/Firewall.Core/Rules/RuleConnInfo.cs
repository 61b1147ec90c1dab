using Firewall.Core.Conntrack;

namespace Firewall.Core.Rules;

/// <summary>What the state and conntrack matches read about the packet's connection.</summary>
public struct RuleConnInfo
{
    public CtState State;
    public CtDirection Direction;
    public CtStatus Status;
    /// <summary>False for INVALID and UNTRACKED packets: then only <c>--ctstate</c> / <c>--state</c> is evaluated (xt_conntrack).</summary>
    public bool HasEntry;
    public ConnTuple Original;
    public ConnTuple Reply;
    /// <summary>Whole seconds until the entry expires (0 for an unconfirmed entry), as <c>--ctexpire</c> reads it.</summary>
    public uint ExpiresInSeconds;
    public byte HelperId;

    /// <summary>A packet without an entry in the given state (INVALID or UNTRACKED).</summary>
    public static RuleConnInfo NoEntry(CtState state) => new() { State = state };

    /// <summary>Builds the view from the tracker's result and the entry's tuples.</summary>
    public static RuleConnInfo From(in TrackResult r, in ConnTuple original, in ConnTuple reply) => new()
    {
        State = r.State,
        Direction = r.Direction,
        Status = r.Status,
        HasEntry = r.HasEntry,
        Original = original,
        Reply = reply,
        ExpiresInSeconds = r.ExpiresInMs / 1000,
        HelperId = r.HelperId,
    };
}

/// <summary>Per-packet facts the rules need that are not in the packet: interfaces and family.</summary>
public readonly struct PacketMeta
{
    /// <summary>Input interface name (null when none, e.g. OUTPUT). Compared ordinally; never copied.</summary>
    public readonly string? InInterface;
    /// <summary>Output interface name (null when none, e.g. INPUT).</summary>
    public readonly string? OutInterface;
    public readonly bool IsV6;

    public PacketMeta(string? inInterface, string? outInterface, bool isV6)
    {
        InInterface = inInterface;
        OutInterface = outInterface;
        IsV6 = isV6;
    }

    public byte Family => IsV6 ? (byte)6 : (byte)4;
}

/// <summary>Which rule decided (or the policy), and how to reject.</summary>
public struct RuleMatchResult
{
    /// <summary>Id of the deciding rule (see <see cref="RuleSet.Rules"/>), or -1 when the chain policy decided.</summary>
    public int RuleId;
    /// <summary>Index of the built-in chain whose policy decided (when <see cref="RuleId"/> is -1), else of the rule's chain.</summary>
    public int ChainIndex;
    /// <summary>Set with <see cref="Verdict.Reject"/>: the kind for the packet's family.</summary>
    public RejectKind Reject;
    /// <summary>Rules whose matches were evaluated (for tests and benchmarks).</summary>
    public int RulesEvaluated;

    public readonly bool IsPolicy => RuleId < 0;
}
