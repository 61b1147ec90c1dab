namespace Firewall.Core.Rules;

/// <summary>One chain of a compiled <see cref="RuleSet"/>. Built-in chains carry a policy per family.</summary>
public sealed class Chain
{
    public string Name { get; }
    public RuleTable Table { get; }
    public bool IsBuiltIn { get; }
    /// <summary>Index in <see cref="RuleSet.Chains"/>.</summary>
    public int Index { get; }
    public Verdict PolicyV4 { get; }
    public Verdict PolicyV6 { get; }
    /// <summary>Families the chain exists for: bit 0 IPv4, bit 1 IPv6.</summary>
    public byte Families { get; }
    /// <summary>Rules that jump or go to this chain.</summary>
    public int References { get; internal set; }
    internal readonly Rule[] Rules;
    internal readonly int PolicySlot;

    internal Chain(string name, RuleTable table, bool builtIn, int index, Verdict v4, Verdict v6, byte families, Rule[] rules, int policySlot)
    {
        Name = name; Table = table; IsBuiltIn = builtIn; Index = index;
        PolicyV4 = v4; PolicyV6 = v6; Families = families; Rules = rules; PolicySlot = policySlot;
    }

    public IReadOnlyList<Rule> RuleList => Rules;
    public Verdict Policy(byte family) => family == 6 ? PolicyV6 : PolicyV4;
    public bool ExistsFor(byte family) => (Families & (family == 6 ? 2 : 1)) != 0;
}
