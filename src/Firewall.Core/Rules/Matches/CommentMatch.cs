using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary><c>-m comment --comment TEXT</c>: always matches.</summary>
public sealed class CommentMatch : RuleMatch
{
    private const int MaxLength = 255;
    public string Text { get; private set; } = "";
    private bool _given;

    public override string Module => "comment";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        if (option != "--comment") return false;
        NoInvert(invert, args);
        if (args.AtEnd) throw args.Error("needs a value");
        Text = args.Take();
        if (Text.Length > MaxLength) throw args.ValueError($"comment is longer than {MaxLength} characters");
        if (Text.Contains('\n')) throw args.ValueError("comment must not contain a newline");
        _given = true;
        return true;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex)
    {
        if (!_given) throw new RuleParseException(null, "-m comment needs --comment", moduleArgIndex);
    }

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs) => true;

    internal override void AppendSave(StringBuilder sb, Rule rule) => sb.Append(" --comment ").Append(Names.Quote(Text));

    internal override void AppendListing(StringBuilder sb, Rule rule) => sb.Append(" /* ").Append(Text).Append(" */");
}
