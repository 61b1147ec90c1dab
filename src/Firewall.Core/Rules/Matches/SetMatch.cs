using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary><c>-m set [!] --match-set NAME src|dst</c> against an <see cref="AddressSet"/> from the configuration.</summary>
public sealed class SetMatch : RuleMatch
{
    private AddressSet? _set;
    private bool _dst;
    internal bool Invert;

    public override string Module => "set";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        switch (option)
        {
            case "--match-set":
            {
                if (_set is not null) throw args.Error("only one --match-set per -m set");
                string name = args.Value();
                if (!ctx.Sets.TryGetValue(name, out _set)) throw args.ValueError($"set \"{name}\" does not exist (define it under Firewall:Rules:Sets)");
                string dir = args.Value();
                if (dir == "src") _dst = false;
                else if (dir == "dst") _dst = true;
                else throw args.ValueError($"\"{dir}\": a set of networks takes one direction, src or dst");
                Invert = invert;
                return true;
            }
            case "--return-nomatch" or "--update-counters" or "--update-subcounters" or "--packets-eq" or "--packets-lt"
                or "--packets-gt" or "--bytes-eq" or "--bytes-lt" or "--bytes-gt":
                throw args.Error($"unsupported option {option}");
        }
        return false;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex)
    {
        if (_set is null) throw new RuleParseException(null, "-m set needs --match-set", moduleArgIndex);
    }

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs) =>
        _set!.Contains(_dst ? p.Dst : p.Src, meta.IsV6) != Invert;

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        Inv(sb, Invert);
        sb.Append(" --match-set ").Append(_set!.Name).Append(_dst ? " dst" : " src");
    }

    internal override void AppendListing(StringBuilder sb, Rule rule) =>
        sb.Append(Invert ? " ! match-set " : " match-set ").Append(_set!.Name).Append(_dst ? " dst" : " src");
}
