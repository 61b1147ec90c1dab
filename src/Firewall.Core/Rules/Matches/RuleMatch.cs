using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary>
/// A <c>-m NAME</c> match extension: parses its own options, checks itself against the rule, evaluates
/// packets (no allocation) and prints itself back in iptables-save and <c>iptables -L</c> form.
/// </summary>
public abstract class RuleMatch
{
    /// <summary>The module name after <c>-m</c>.</summary>
    public abstract string Module { get; }

    /// <summary>Consumes <paramref name="option"/> (and its values) when it belongs to this match; false when it does not.</summary>
    internal abstract bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx);

    /// <summary>Checks the complete rule (required options, protocol); throws <see cref="RuleParseException"/>.</summary>
    internal virtual void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex) { }

    public abstract bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs);

    /// <summary>Appends the options (each starting with a space) after " -m Module".</summary>
    internal abstract void AppendSave(StringBuilder sb, Rule rule);

    /// <summary>Appends the description <c>iptables -L</c> shows (each part starting with a space).</summary>
    internal abstract void AppendListing(StringBuilder sb, Rule rule);

    protected static void Inv(StringBuilder sb, bool invert)
    {
        if (invert) sb.Append(" !");
    }

    /// <summary>Kernel rule for protocol-bound matches (x_tables "only valid for protocol N").</summary>
    protected static void RequireProto(Rule rule, int moduleArgIndex, string module, params byte[] protos)
    {
        if (rule.HasProto && !rule.ProtoInv && Array.IndexOf(protos, rule.Proto) >= 0) return;
        var names = string.Join(", ", protos.Select(p => "-p " + Names.ProtocolName(p)));
        throw new RuleParseException(null, $"-m {module} needs {names} (not inverted)", moduleArgIndex);
    }

    protected static void NoInvert(bool invert, ArgCursor args)
    {
        if (invert) throw args.Error("cannot be inverted");
    }
}
