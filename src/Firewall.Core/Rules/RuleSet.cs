using System.Runtime.CompilerServices;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Matches;

namespace Firewall.Core.Rules;

/// <summary>
/// An immutable, compiled rule set (filter and raw tables, both families). Evaluation walks arrays of rules with
/// an explicit jump stack on the machine stack: no allocation, no locks. Only the counters, limit buckets and the
/// log ring change, all lock-free. Swap whole rule sets with <see cref="RuleSetHolder"/>.
/// </summary>
public sealed class RuleSet
{
    private static readonly RuleConnInfo s_rawConn = RuleConnInfo.NoEntry(CtState.Invalid);

    private readonly Chain[] _chains;
    private readonly Rule[] _rules;
    private readonly Chain[] _filterBase;
    private readonly Chain[] _rawBase;
    private readonly int _stackInts;

    public IReadOnlyList<Chain> Chains => _chains;
    public IReadOnlyList<Rule> Rules => _rules;
    public RuleCounters Counters { get; }
    public RuleLogRing? LogRing { get; }
    public IReadOnlyDictionary<string, AddressSet> Sets { get; }
    /// <summary>Deepest jump nesting (jumps push, gotos do not).</summary>
    public int MaxJumpDepth { get; }

    internal RuleSet(Chain[] chains, Rule[] rules, int maxDepth, RuleCounters counters, RuleLogRing? log, IReadOnlyDictionary<string, AddressSet> sets)
    {
        _chains = chains;
        _rules = rules;
        _filterBase = [chains[0], chains[1], chains[2]];
        _rawBase = [chains[3], chains[4]];
        MaxJumpDepth = maxDepth;
        _stackInts = Math.Max(2, 2 * maxDepth);
        Counters = counters;
        LogRing = log;
        Sets = sets;
    }

    /// <summary>Index of a chain's policy counter slot (use with <see cref="Counters"/>).</summary>
    public (long Packets, long Bytes) PolicyCounters(Chain chain, byte family) => Counters.Read(chain.PolicySlot + (family == 6 ? 1 : 0));

    public (long Packets, long Bytes) RuleCounters(int ruleId) => Counters.Read(ruleId);

    public Chain FilterChain(FilterHook hook) => _filterBase[(int)hook];
    public Chain RawChain(RawHook hook) => _rawBase[(int)hook];

    public Chain? FindChain(RuleTable table, string name)
    {
        foreach (Chain c in _chains) if (c.Table == table && c.Name == name) return c;
        return null;
    }

    /// <summary>Runs the filter table's chain for <paramref name="hook"/>.</summary>
    public Verdict Evaluate(FilterHook hook, ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs, out RuleMatchResult m)
    {
        TrackOptions unused = default;
        return Traverse(_filterBase[(int)hook], ref p, in ct, in meta, nowNs, ref unused, out m);
    }

    /// <summary>
    /// Runs the raw table's chain for <paramref name="hook"/> before tracking. Returns the tracking options
    /// (starting from <see cref="TrackOptions.Received"/> for PREROUTING, <see cref="TrackOptions.LocallyGenerated"/>
    /// for OUTPUT; the first CT/NOTRACK rule that matches sets them, as in the kernel). <paramref name="verdict"/> is
    /// Drop when a raw rule or policy drops the packet: conntrack must then not see it.
    /// </summary>
    public TrackOptions EvaluateRaw(RawHook hook, ref ParsedPacket p, in PacketMeta meta, long nowNs, out Verdict verdict)
    {
        TrackOptions opts = hook == RawHook.Prerouting ? TrackOptions.Received : TrackOptions.LocallyGenerated;
        verdict = Traverse(_rawBase[(int)hook], ref p, in s_rawConn, in meta, nowNs, ref opts, out _);
        return opts;
    }

    private Verdict Traverse(Chain baseChain, ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs, ref TrackOptions opts, out RuleMatchResult m)
    {
        Span<int> stack = stackalloc int[_stackInts];
        int sp = 0, i = 0, evaluated = 0;
        bool ctSet = false;
        Chain chain = baseChain;
        Rule[] rules = chain.Rules;
        byte fam = meta.Family;
        while (true)
        {
            if ((uint)i >= (uint)rules.Length)
            {
                if (sp == 0) return Policy(baseChain, fam, p.L3Length, evaluated, out m);
                sp -= 2;
                chain = _chains[stack[sp]];
                i = stack[sp + 1];
                rules = chain.Rules;
                continue;
            }
            Rule r = rules[i++];
            if (r.Family != 0 && r.Family != fam) continue;
            evaluated++;
            if (!r.HeaderMatches(ref p, in meta) || !MatchesAll(r.Matches, ref p, in ct, in meta, nowNs)) continue;
            Counters.Add(r.Id, p.L3Length);
            switch (r.Target)
            {
                case RuleTargetKind.Accept:
                    m = new RuleMatchResult { RuleId = r.Id, ChainIndex = chain.Index, RulesEvaluated = evaluated };
                    return Verdict.Accept;
                case RuleTargetKind.Drop:
                    m = new RuleMatchResult { RuleId = r.Id, ChainIndex = chain.Index, RulesEvaluated = evaluated };
                    return Verdict.Drop;
                case RuleTargetKind.Reject:
                    m = new RuleMatchResult { RuleId = r.Id, ChainIndex = chain.Index, RulesEvaluated = evaluated, Reject = fam == 6 ? r.RejectV6 : r.RejectV4 };
                    return Verdict.Reject;
                case RuleTargetKind.Log:
                    if (LogRing is not null) WriteLog(r, ref p, in ct, in meta, nowNs);
                    break;
                case RuleTargetKind.Return:
                    if (sp == 0) return Policy(baseChain, fam, p.L3Length, evaluated, out m);
                    sp -= 2;
                    chain = _chains[stack[sp]];
                    i = stack[sp + 1];
                    rules = chain.Rules;
                    break;
                case RuleTargetKind.Jump:
                    stack[sp] = chain.Index;
                    stack[sp + 1] = i;
                    sp += 2;
                    chain = _chains[r.TargetChainIndex];
                    rules = chain.Rules;
                    i = 0;
                    break;
                case RuleTargetKind.Goto:
                    chain = _chains[r.TargetChainIndex];
                    rules = chain.Rules;
                    i = 0;
                    break;
                case RuleTargetKind.Ct:
                    if (!ctSet)
                    {
                        ctSet = true;
                        if (r.CtNoTrack) opts.NoTrack = true;
                        if (r.CtHelper != 0) opts.HelperId = r.CtHelper;
                        if (r.CtZone >= 0) opts.Zone = r.CtZone;
                    }
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MatchesAll(RuleMatch[] matches, ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs)
    {
        for (int k = 0; k < matches.Length; k++)
            if (!matches[k].Matches(ref p, in ct, in meta, nowNs)) return false;
        return true;
    }

    private Verdict Policy(Chain baseChain, byte fam, int length, int evaluated, out RuleMatchResult m)
    {
        Counters.Add(baseChain.PolicySlot + (fam == 6 ? 1 : 0), length);
        m = new RuleMatchResult { RuleId = -1, ChainIndex = baseChain.Index, RulesEvaluated = evaluated };
        return baseChain.Policy(fam);
    }

    private void WriteLog(Rule r, ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs)
    {
        var rec = new RuleLogRecord
        {
            TimeNs = nowNs,
            RuleId = r.Id,
            Prefix = r.LogPrefix,
            Level = r.LogLevel,
            Table = r.Table,
            Chain = r.Chain,
            InInterface = meta.InInterface,
            OutInterface = meta.OutInterface,
            Family = meta.Family,
            Proto = p.Protocol,
            Src = p.Src,
            Dst = p.Dst,
            SrcPort = p.SrcPort,
            DstPort = p.DstPort,
            IcmpType = p.IcmpType,
            IcmpCode = p.IcmpCode,
            TcpFlags = p.TcpFlagBits,
            Length = p.L3Length,
            State = ct.State,
        };
        LogRing!.TryWrite(in rec);
    }

    /// <summary>The rules of one family in iptables-save format (raw table first when it has content, then filter).</summary>
    public string ToIptablesSave(byte family, bool withCounters = false) => RuleSetFormatter.Save(this, family, withCounters);

    /// <summary>Like <c>iptables -L -v -n</c> (or ip6tables for family 6) for one table.</summary>
    public string ListVerbose(byte family, RuleTable table = RuleTable.Filter) => RuleSetFormatter.List(this, family, table);
}
