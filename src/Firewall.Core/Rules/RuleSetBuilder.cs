using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules;

/// <summary>
/// Collects chains, policies, sets and rules from any number of sources (iptables-save files, configuration),
/// then compiles them into an immutable <see cref="RuleSet"/>: resolves jumps, rejects loops, sizes the jump stack.
/// Rules of one chain keep the order in which they were added.
/// </summary>
public sealed class RuleSetBuilder
{
    private sealed class ChainDef
    {
        public required string Name;
        public required RuleTable Table;
        public bool BuiltIn;
        public byte Families;
        public readonly List<Rule> Rules = [];
        public readonly Verdict?[] Policy = new Verdict?[2];
        public readonly string?[] PolicyOrigin = new string?[2];
        public readonly long[] PolicyPackets = new long[2], PolicyBytes = new long[2];
    }

    private static readonly (RuleTable, string)[] BuiltIns =
    [
        (RuleTable.Filter, "INPUT"), (RuleTable.Filter, "FORWARD"), (RuleTable.Filter, "OUTPUT"),
        (RuleTable.Raw, "PREROUTING"), (RuleTable.Raw, "OUTPUT"),
    ];

    private readonly List<ChainDef> _chains = [];
    private readonly Dictionary<(RuleTable, string), ChainDef> _byName = [];
    private readonly Dictionary<string, AddressSet> _sets = new(StringComparer.Ordinal);

    /// <summary>Every problem found so far, each naming its source (file:line or configuration key).</summary>
    public List<string> Errors { get; } = [];
    public IReadOnlyDictionary<string, AddressSet> Sets => _sets;

    public RuleSetBuilder()
    {
        foreach (var (t, n) in BuiltIns)
        {
            var c = new ChainDef { Name = n, Table = t, BuiltIn = true, Families = 3 };
            _chains.Add(c);
            _byName[(t, n)] = c;
        }
    }

    public static bool IsBuiltIn(RuleTable table, string name) =>
        table == RuleTable.Filter ? name is "INPUT" or "FORWARD" or "OUTPUT" : name is "PREROUTING" or "OUTPUT";

    private static byte FamilyBits(byte family) => family switch { 4 => 1, 6 => 2, _ => 3 };

    public void AddSet(AddressSet set)
    {
        if (!_sets.TryAdd(set.Name, set)) Errors.Add($"set \"{set.Name}\" is defined twice");
    }

    /// <summary>Declares a user-defined chain for a family (0 = both). Declaring it again for another source is fine.</summary>
    public bool DeclareChain(RuleTable table, string name, byte family, string origin)
    {
        if (IsBuiltIn(table, name)) return true;
        if (!RuleParser.IsValidChainName(name, out string err))
        {
            Errors.Add($"{origin}: {err}");
            return false;
        }
        if (!_byName.TryGetValue((table, name), out ChainDef? c))
        {
            c = new ChainDef { Name = name, Table = table };
            _chains.Add(c);
            _byName[(table, name)] = c;
        }
        c.Families |= FamilyBits(family);
        return true;
    }

    public bool ChainExists(RuleTable table, string name, byte family) =>
        _byName.TryGetValue((table, name), out ChainDef? c) && (c.Families & FamilyBits(family)) == FamilyBits(family);

    /// <summary>Sets a built-in chain's policy for a family (0 = both). Two sources disagreeing is an error naming both.</summary>
    public void SetPolicy(RuleTable table, string chain, byte family, Verdict policy, string origin, long packets = 0, long bytes = 0)
    {
        if (!_byName.TryGetValue((table, chain), out ChainDef? c) || !c.BuiltIn)
        {
            Errors.Add($"{origin}: only built-in chains have a policy ({chain} is not one)");
            return;
        }
        if (policy == Verdict.Reject)
        {
            Errors.Add($"{origin}: a policy must be ACCEPT or DROP");
            return;
        }
        for (int f = 0; f < 2; f++)
        {
            if ((FamilyBits(family) & (1 << f)) == 0) continue;
            if (c.Policy[f] is { } prev && prev != policy)
            {
                Errors.Add($"{origin}: policy {Name(policy)} for {chain} conflicts with {c.PolicyOrigin[f]} ({Name(prev)})");
                continue;
            }
            c.Policy[f] = policy;
            c.PolicyOrigin[f] = origin;
            c.PolicyPackets[f] += packets;
            c.PolicyBytes[f] += bytes;
        }
    }

    private static string Name(Verdict v) => v == Verdict.Accept ? "ACCEPT" : "DROP";

    /// <summary>Appends a parsed rule to its chain (which must exist for the rule's family).</summary>
    public void AddRule(Rule rule, int position = -1)
    {
        if (!_byName.TryGetValue((rule.Table, rule.Chain), out ChainDef? c) || (c.Families & FamilyBits(rule.Family)) != FamilyBits(rule.Family))
        {
            Errors.Add($"{rule.Origin}: chain {rule.Chain} does not exist{FamilyText(rule.Family)}");
            return;
        }
        if (position < 0 || position >= c.Rules.Count) c.Rules.Add(rule);
        else c.Rules.Insert(position, rule);
    }

    /// <summary>Rules already in a chain (for <c>-I CHAIN N</c>).</summary>
    public int RuleCount(RuleTable table, string chain) => _byName.TryGetValue((table, chain), out ChainDef? c) ? c.Rules.Count : 0;

    private static string FamilyText(byte family) => family == 0 ? "" : $" for IPv{family}";

    /// <summary>Compiles. Returns null (and fills <see cref="Errors"/>) when anything is wrong.</summary>
    public RuleSet? Build(RuleLogRing? logRing = null)
    {
        if (Errors.Count > 0) return null;
        int errorsBefore = Errors.Count;
        var rules = new List<Rule>();
        foreach (ChainDef c in _chains)
            foreach (Rule r in c.Rules)
            {
                r.Id = rules.Count;
                rules.Add(r);
            }
        var index = new Dictionary<ChainDef, int>();
        for (int i = 0; i < _chains.Count; i++) index[_chains[i]] = i;
        var refs = new int[_chains.Count];

        foreach (ChainDef c in _chains)
        {
            foreach (Rule r in c.Rules)
            {
                if (r.Target is not (RuleTargetKind.Jump or RuleTargetKind.Goto)) continue;
                if (!_byName.TryGetValue((c.Table, r.TargetChain!), out ChainDef? t))
                {
                    Errors.Add($"{r.Origin}: chain {r.TargetChain} does not exist");
                    continue;
                }
                if (t.BuiltIn)
                {
                    Errors.Add($"{r.Origin}: cannot jump to the built-in chain {t.Name}");
                    continue;
                }
                if ((t.Families & FamilyBits(r.Family)) != FamilyBits(r.Family))
                {
                    Errors.Add($"{r.Origin}: chain {r.TargetChain} does not exist for IPv{((t.Families & 1) == 0 ? 4 : 6)}");
                    continue;
                }
                r.TargetChainIndex = index[t];
                refs[index[t]]++;
            }
        }
        if (Errors.Count > errorsBefore) return null;

        int maxDepth = 0;
        foreach (byte fam in (byte[])[4, 6])
        {
            if (!CheckLoops(fam, index)) return null;
            var memo = new int[_chains.Count];
            Array.Fill(memo, -1);
            for (int b = 0; b < BuiltIns.Length; b++) maxDepth = Math.Max(maxDepth, Depth(_chains[b], fam, index, memo));
        }
        if (maxDepth > 1024)
        {
            Errors.Add($"jumps nest {maxDepth} deep; at most 1024 are supported");
            return null;
        }

        int policyBase = rules.Count;
        var counters = new RuleCounters(rules.Count + 2 * BuiltIns.Length);
        var chains = new Chain[_chains.Count];
        for (int i = 0; i < _chains.Count; i++)
        {
            ChainDef d = _chains[i];
            int slot = d.BuiltIn ? policyBase + 2 * i : -1;
            chains[i] = new Chain(d.Name, d.Table, d.BuiltIn, i, d.Policy[0] ?? Verdict.Accept, d.Policy[1] ?? Verdict.Accept,
                d.Families, d.Rules.ToArray(), slot) { References = refs[i] };
            if (d.BuiltIn)
            {
                counters.Preset(slot, d.PolicyPackets[0], d.PolicyBytes[0]);
                counters.Preset(slot + 1, d.PolicyPackets[1], d.PolicyBytes[1]);
            }
        }
        foreach (Rule r in rules)
            if (r.InitPackets != 0 || r.InitBytes != 0) counters.Preset(r.Id, r.InitPackets, r.InitBytes);
        return new RuleSet(chains, rules.ToArray(), maxDepth, counters, logRing, new Dictionary<string, AddressSet>(_sets));
    }

    private static bool Applies(Rule r, byte fam) => r.Family == 0 || r.Family == fam;

    private bool CheckLoops(byte fam, Dictionary<ChainDef, int> index)
    {
        var color = new byte[_chains.Count]; // 0 white, 1 on the path, 2 done
        var path = new List<string>();
        bool Visit(int i)
        {
            color[i] = 1;
            path.Add(_chains[i].Name);
            foreach (Rule r in _chains[i].Rules)
            {
                if (r.TargetChainIndex < 0 || !Applies(r, fam)) continue;
                int t = r.TargetChainIndex;
                if (color[t] == 1)
                {
                    int start = path.IndexOf(_chains[t].Name);
                    Errors.Add($"{r.Origin}: chain loop {string.Join(" -> ", path.Skip(start))} -> {_chains[t].Name}");
                    return false;
                }
                if (color[t] == 0 && !Visit(t)) return false;
            }
            color[i] = 2;
            path.RemoveAt(path.Count - 1);
            return true;
        }
        for (int i = 0; i < _chains.Count; i++)
            if (color[i] == 0 && !Visit(i)) return false;
        return true;
    }

    private int Depth(ChainDef c, byte fam, Dictionary<ChainDef, int> index, int[] memo)
    {
        int i = index[c];
        if (memo[i] >= 0) return memo[i];
        int d = 0;
        foreach (Rule r in c.Rules)
        {
            if (r.TargetChainIndex < 0 || !Applies(r, fam)) continue;
            int sub = Depth(_chains[r.TargetChainIndex], fam, index, memo);
            d = Math.Max(d, sub + (r.Target == RuleTargetKind.Jump ? 1 : 0));
        }
        return memo[i] = d;
    }
}
