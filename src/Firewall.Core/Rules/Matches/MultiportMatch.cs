using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary><c>-m multiport --sports|--dports|--ports LIST</c> (revision 1: ports and A:B ranges, at most 15 slots).</summary>
public sealed class MultiportMatch : RuleMatch
{
    private enum Kind : byte { Source, Destination, Either }
    private const int MaxSlots = 15;

    private Kind _kind;
    private ushort[] _lo = [], _hi = [];
    internal bool Invert;
    private bool _given;

    public override string Module => "multiport";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        Kind k;
        switch (option)
        {
            case "--sports" or "--source-ports": k = Kind.Source; break;
            case "--dports" or "--destination-ports": k = Kind.Destination; break;
            case "--ports": k = Kind.Either; break;
            default: return false;
        }
        if (_given) throw args.Error("multiport can only have one option");
        string v = args.Value();
        string[] parts = v.Split(',');
        var lo = new ushort[parts.Length];
        var hi = new ushort[parts.Length];
        int slots = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!Names.TryParsePortRange(parts[i], out lo[i], out hi[i], out string err)) throw args.ValueError(err);
            slots += lo[i] == hi[i] ? 1 : 2;
        }
        if (slots > MaxSlots) throw args.ValueError($"too many ports specified (at most {MaxSlots}; a range counts as two)");
        (_kind, _lo, _hi, Invert, _given) = (k, lo, hi, invert, true);
        return true;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex)
    {
        RequireProto(rule, moduleArgIndex, Module, IpProto.Tcp, IpProto.Udp, IpProto.UdpLite, IpProto.Sctp, IpProto.Dccp);
        if (!_given) throw new RuleParseException(null, "-m multiport needs --sports, --dports or --ports", moduleArgIndex);
    }

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs)
    {
        if (p.FragmentOffset != 0 || p.Error != ParseError.None) return false;
        ushort s = p.SrcPort, d = p.DstPort;
        ushort[] lo = _lo, hi = _hi;
        for (int i = 0; i < lo.Length; i++)
        {
            bool hit = _kind switch
            {
                Kind.Source => s >= lo[i] && s <= hi[i],
                Kind.Destination => d >= lo[i] && d <= hi[i],
                _ => (s >= lo[i] && s <= hi[i]) || (d >= lo[i] && d <= hi[i]),
            };
            if (hit) return !Invert;
        }
        return Invert;
    }

    private string List()
    {
        var parts = new string[_lo.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = Names.PortRange(_lo[i], _hi[i]);
        return string.Join(',', parts);
    }

    private string OptionName => _kind switch { Kind.Source => "sports", Kind.Destination => "dports", _ => "ports" };

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        Inv(sb, Invert);
        sb.Append(" --").Append(OptionName).Append(' ').Append(List());
    }

    internal override void AppendListing(StringBuilder sb, Rule rule) =>
        sb.Append(" multiport ").Append(OptionName).Append(' ').Append(Invert ? "! " : "").Append(List());
}
