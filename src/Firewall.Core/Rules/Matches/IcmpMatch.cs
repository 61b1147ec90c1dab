using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary><c>-m icmp --icmp-type</c> (IPv4) and <c>-m icmp6 --icmpv6-type</c> (IPv6): type and code range.</summary>
public sealed class IcmpMatch : RuleMatch
{
    private readonly bool _v6;
    internal byte Type, CodeLo, CodeHi;
    internal bool Invert, Given;

    public IcmpMatch(bool v6) { _v6 = v6; }

    public override string Module => _v6 ? "icmp6" : "icmp";
    private string Option => _v6 ? "--icmpv6-type" : "--icmp-type";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        if (option != Option) return false;
        string v = args.Value();
        if (!Names.TryParseIcmpType(v, _v6, out Type, out CodeLo, out CodeHi))
            throw args.ValueError($"invalid {(_v6 ? "ICMPv6" : "ICMP")} type \"{v}\"");
        Invert = invert;
        Given = true;
        return true;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex)
    {
        RuleParser.RequireFamily(rule, _v6 ? (byte)6 : (byte)4, null, "-m " + Module, moduleArgIndex);
        RequireProto(rule, moduleArgIndex, Module, _v6 ? IpProto.Icmpv6 : IpProto.Icmp);
        if (!Given) throw new RuleParseException(null, $"-m {Module} needs {Option}", moduleArgIndex);
    }

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs)
    {
        if (p.FragmentOffset != 0 || p.Error != ParseError.None) return false;
        bool m = (!_v6 && Type == 0xFF) || (p.IcmpType == Type && p.IcmpCode >= CodeLo && p.IcmpCode <= CodeHi);
        return m != Invert;
    }

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        Inv(sb, Invert);
        sb.Append(' ').Append(Option).Append(' ').Append(Names.IcmpType(Type, CodeLo, CodeHi, _v6));
    }

    internal override void AppendListing(StringBuilder sb, Rule rule)
    {
        sb.Append(' ').Append(Invert ? "!" : "").Append(_v6 ? "ipv6-icmptype " : "icmptype ");
        if (!_v6 && Type == 0xFF) { sb.Append("any"); return; }
        sb.Append(Type);
        if (!(CodeLo == 0 && CodeHi == 0xFF)) sb.Append(" code ").Append(CodeLo);
    }
}
