using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary><c>-m state [!] --state LIST</c>: the packet's state bit is in the list.</summary>
public sealed class StateMatch : RuleMatch
{
    internal ushort Mask;
    internal bool Invert;
    private bool _given;

    public override string Module => "state";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        if (option != "--state") return false;
        if (!Names.TryParseStates(args.Value(), false, out Mask, out string err)) throw args.ValueError(err);
        Invert = invert;
        _given = true;
        return true;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex)
    {
        if (!_given) throw new RuleParseException(null, "-m state needs --state", moduleArgIndex);
    }

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs) =>
        ((Mask & (ushort)ct.State) != 0) != Invert;

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        Inv(sb, Invert);
        sb.Append(" --state ").Append(Names.States(Mask));
    }

    internal override void AppendListing(StringBuilder sb, Rule rule) =>
        sb.Append(Invert ? " ! state " : " state ").Append(Names.States(Mask));
}
