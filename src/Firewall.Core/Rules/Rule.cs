using System.Runtime.CompilerServices;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Matches;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules;

public enum RuleTargetKind : byte
{
    /// <summary>No <c>-j</c>: the rule only counts.</summary>
    None = 0,
    Accept,
    Drop,
    Reject,
    Log,
    Return,
    /// <summary><c>-j CHAIN</c>.</summary>
    Jump,
    /// <summary><c>-g CHAIN</c>.</summary>
    Goto,
    /// <summary><c>-j CT</c> / <c>-j NOTRACK</c> (raw table).</summary>
    Ct,
}

/// <summary>
/// One rule: the IP-header part (<c>-s -d -i -o -p -f</c>), the matches (<c>-m …</c>) in order, and the target.
/// Built by <see cref="RuleParser"/>, owned by one <see cref="RuleSet"/> after compilation and not changed again.
/// </summary>
public sealed class Rule
{
    internal const byte HSrc = 1, HDst = 2, HIn = 4, HOut = 8, HProto = 16, HFrag = 32;

    /// <summary>Index in <see cref="RuleSet.Rules"/> and counter slot.</summary>
    public int Id { get; internal set; } = -1;
    /// <summary>Where the rule came from: "rules.v4:12" or a configuration key path.</summary>
    public string Origin { get; internal set; } = "";
    public RuleTable Table { get; internal set; }
    public string Chain { get; internal set; } = "";
    /// <summary>0 = both families, 4 or 6.</summary>
    public byte Family { get; internal set; }
    internal byte SoftFamily;

    internal byte Header;
    internal AddressSpec Src, Dst;
    internal bool SrcInv, DstInv;
    internal string InIface = "", OutIface = "";
    internal bool InWildcard, OutWildcard, InInv, OutInv;
    internal byte Proto;
    internal bool ProtoInv, FragInv;
    internal RuleMatch[] Matches = [];

    public RuleTargetKind Target { get; internal set; }
    /// <summary>Jump/goto target chain name.</summary>
    public string? TargetChain { get; internal set; }
    internal int TargetChainIndex = -1;
    internal RejectKind RejectGiven, RejectV4, RejectV6;
    internal string? LogPrefix;
    internal byte LogLevel = 4;
    internal byte LogFlags;
    internal bool CtNoTrack;
    internal byte CtHelper;
    internal int CtZone = -1;
    internal long InitPackets, InitBytes;

    public bool HasProto => (Header & HProto) != 0;
    public byte Protocol => Proto;
    public bool ProtocolInverted => ProtoInv;
    public IReadOnlyList<RuleMatch> MatchList => Matches;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool HeaderMatches(ref ParsedPacket p, in PacketMeta meta)
    {
        byte h = Header;
        if ((h & HProto) != 0 && (p.Protocol == Proto) == ProtoInv) return false;
        if ((h & HSrc) != 0 && Src.Contains(p.Src) == SrcInv) return false;
        if ((h & HDst) != 0 && Dst.Contains(p.Dst) == DstInv) return false;
        if ((h & (HIn | HOut | HFrag)) != 0) return SlowHeader(ref p, meta);
        return true;
    }

    private bool SlowHeader(ref ParsedPacket p, in PacketMeta meta)
    {
        byte h = Header;
        if ((h & HIn) != 0 && IfaceMatches(meta.InInterface, InIface, InWildcard) == InInv) return false;
        if ((h & HOut) != 0 && IfaceMatches(meta.OutInterface, OutIface, OutWildcard) == OutInv) return false;
        if ((h & HFrag) != 0 && (p.FragmentOffset != 0) == FragInv) return false;
        return true;
    }

    private static bool IfaceMatches(string? name, string pattern, bool wildcard)
    {
        name ??= "";
        return wildcard ? name.StartsWith(pattern, StringComparison.Ordinal) : string.Equals(name, pattern, StringComparison.Ordinal);
    }

    /// <summary>The rule in iptables-save syntax, without "-A CHAIN" (starts with a space when non-empty).</summary>
    public string ToSaveArgs()
    {
        var sb = new System.Text.StringBuilder();
        RuleSetFormatter.AppendSaveArgs(sb, this);
        return sb.ToString();
    }

    public override string ToString() => $"-A {Chain}{ToSaveArgs()}";
}
