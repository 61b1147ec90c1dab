namespace Firewall.Core.Rules.Parsing;

/// <summary>Where a rule is being parsed: table, chain, family and the sets it may reference.</summary>
public sealed class RuleParseContext
{
    public RuleTable Table { get; init; } = RuleTable.Filter;
    public string Chain { get; init; } = "INPUT";
    /// <summary>0 = the rule applies to both families unless it names family-specific things; 4 or 6 = fixed (an iptables-save file).</summary>
    public byte Family { get; init; }
    public IReadOnlyDictionary<string, AddressSet> Sets { get; init; } = new Dictionary<string, AddressSet>();
    /// <summary>Text for <see cref="Rule.Origin"/> ("rules.v4:12", "Firewall:Rules:Filter:Input:Rules:3").</summary>
    public string Origin { get; init; } = "";

    public bool ChainIsBuiltIn => Table == RuleTable.Filter
        ? Chain is "INPUT" or "FORWARD" or "OUTPUT"
        : Chain is "PREROUTING" or "OUTPUT";
}
