using System.Globalization;
using System.Text;
using Firewall.Core.Rules.Matches;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules;

/// <summary>Renders rules in iptables-save syntax and in the <c>iptables -L -v -n</c> layout.</summary>
public static class RuleSetFormatter
{
    /// <summary>The rule's options in iptables-save order: -s -d -i -o -p -f, matches, target.</summary>
    public static void AppendSaveArgs(StringBuilder sb, Rule r, byte family = 0)
    {
        if ((r.Header & Rule.HSrc) != 0) { Inv(sb, r.SrcInv); sb.Append(" -s ").Append(r.Src.ToSaveString()); }
        if ((r.Header & Rule.HDst) != 0) { Inv(sb, r.DstInv); sb.Append(" -d ").Append(r.Dst.ToSaveString()); }
        if ((r.Header & Rule.HIn) != 0) { Inv(sb, r.InInv); sb.Append(" -i ").Append(r.InIface).Append(r.InWildcard ? "+" : ""); }
        if ((r.Header & Rule.HOut) != 0) { Inv(sb, r.OutInv); sb.Append(" -o ").Append(r.OutIface).Append(r.OutWildcard ? "+" : ""); }
        if ((r.Header & Rule.HProto) != 0) { Inv(sb, r.ProtoInv); sb.Append(" -p ").Append(Names.ProtocolName(r.Proto)); }
        if ((r.Header & Rule.HFrag) != 0) { Inv(sb, r.FragInv); sb.Append(" -f"); }
        foreach (RuleMatch m in r.Matches)
        {
            sb.Append(" -m ").Append(m.Module);
            m.AppendSave(sb, r);
        }
        AppendTarget(sb, r, family == 0 ? (r.Family == 0 ? (byte)4 : r.Family) : family);
    }

    private static void Inv(StringBuilder sb, bool inv)
    {
        if (inv) sb.Append(" !");
    }

    private static void AppendTarget(StringBuilder sb, Rule r, byte family)
    {
        switch (r.Target)
        {
            case RuleTargetKind.Accept: sb.Append(" -j ACCEPT"); break;
            case RuleTargetKind.Drop: sb.Append(" -j DROP"); break;
            case RuleTargetKind.Return: sb.Append(" -j RETURN"); break;
            case RuleTargetKind.Jump: sb.Append(" -j ").Append(r.TargetChain); break;
            case RuleTargetKind.Goto: sb.Append(" -g ").Append(r.TargetChain); break;
            case RuleTargetKind.Reject:
                sb.Append(" -j REJECT --reject-with ").Append(RejectKinds.Name(family == 6 ? r.RejectV6 : r.RejectV4));
                break;
            case RuleTargetKind.Log:
                sb.Append(" -j LOG");
                if (!string.IsNullOrEmpty(r.LogPrefix)) sb.Append(" --log-prefix ").Append(Names.Quote(r.LogPrefix));
                if (r.LogLevel != 4) sb.Append(" --log-level ").Append(r.LogLevel);
                if ((r.LogFlags & RuleParser.LogFlagTcpSeq) != 0) sb.Append(" --log-tcp-sequence");
                if ((r.LogFlags & RuleParser.LogFlagTcpOpt) != 0) sb.Append(" --log-tcp-options");
                if ((r.LogFlags & RuleParser.LogFlagIpOpt) != 0) sb.Append(" --log-ip-options");
                if ((r.LogFlags & RuleParser.LogFlagUid) != 0) sb.Append(" --log-uid");
                if ((r.LogFlags & RuleParser.LogFlagMac) != 0) sb.Append(" --log-macdecode");
                break;
            case RuleTargetKind.Ct:
                sb.Append(" -j CT");
                if (r.CtNoTrack) sb.Append(" --notrack");
                if (r.CtHelper != 0) sb.Append(" --helper ").Append(HelperIds.Name(r.CtHelper));
                if (r.CtZone >= 0) sb.Append(" --zone ").Append(r.CtZone);
                break;
        }
    }

    private static bool Visible(Rule r, byte family) => r.Family == 0 || r.Family == family;

    private static bool TableHasContent(RuleSet set, RuleTable table, byte family)
    {
        foreach (Chain c in set.Chains)
        {
            if (c.Table != table || !c.ExistsFor(family)) continue;
            if (!c.IsBuiltIn || c.Policy(family) != Verdict.Accept) return true;
            foreach (Rule r in c.Rules) if (Visible(r, family)) return true;
        }
        return false;
    }

    public static string Save(RuleSet set, byte family, bool withCounters)
    {
        var sb = new StringBuilder();
        foreach (RuleTable table in (RuleTable[])[RuleTable.Raw, RuleTable.Filter])
        {
            if (table == RuleTable.Raw && !TableHasContent(set, table, family)) continue;
            sb.Append('*').Append(table == RuleTable.Raw ? "raw" : "filter").Append('\n');
            foreach (Chain c in set.Chains)
            {
                if (c.Table != table || !c.ExistsFor(family)) continue;
                var (p, b) = c.IsBuiltIn && withCounters ? set.PolicyCounters(c, family) : (0L, 0L);
                sb.Append(':').Append(c.Name).Append(' ').Append(c.IsBuiltIn ? (c.Policy(family) == Verdict.Accept ? "ACCEPT" : "DROP") : "-")
                  .Append(CultureInfo.InvariantCulture, $" [{p}:{b}]\n");
            }
            foreach (Chain c in set.Chains)
            {
                if (c.Table != table || !c.ExistsFor(family)) continue;
                foreach (Rule r in c.Rules)
                {
                    if (!Visible(r, family)) continue;
                    if (withCounters)
                    {
                        var (p, b) = set.RuleCounters(r.Id);
                        sb.Append(CultureInfo.InvariantCulture, $"[{p}:{b}] ");
                    }
                    sb.Append("-A ").Append(c.Name);
                    AppendSaveArgs(sb, r, family);
                    sb.Append('\n');
                }
            }
            sb.Append("COMMIT\n");
        }
        return sb.ToString();
    }

    /// <summary>iptables' abbreviated counter: plain up to 99999, then K, M, G, T.</summary>
    public static string Num(long n)
    {
        if (n <= 99999) return n.ToString(CultureInfo.InvariantCulture);
        string[] units = ["K", "M", "G", "T"];
        foreach (string u in units)
        {
            n = (n + 500) / 1000;
            if (n <= 9999) return n.ToString(CultureInfo.InvariantCulture) + u;
        }
        return n.ToString(CultureInfo.InvariantCulture) + "P";
    }

    public static string List(RuleSet set, byte family, RuleTable table)
    {
        var sb = new StringBuilder();
        string any = family == 6 ? "::/0" : "0.0.0.0/0";
        bool first = true;
        foreach (Chain c in set.Chains)
        {
            if (c.Table != table || !c.ExistsFor(family)) continue;
            if (!first) sb.Append('\n');
            first = false;
            if (c.IsBuiltIn)
            {
                var (pp, pb) = set.PolicyCounters(c, family);
                sb.Append(CultureInfo.InvariantCulture, $"Chain {c.Name} (policy {(c.Policy(family) == Verdict.Accept ? "ACCEPT" : "DROP")} {pp} packets, {pb} bytes)\n");
            }
            else sb.Append(CultureInfo.InvariantCulture, $"Chain {c.Name} ({c.References} references)\n");
            sb.Append(" pkts bytes target     prot opt in     out     source               destination\n");
            foreach (Rule r in c.Rules)
            {
                if (!Visible(r, family)) continue;
                var (p, b) = set.RuleCounters(r.Id);
                string target = r.Target switch
                {
                    RuleTargetKind.None => "",
                    RuleTargetKind.Jump or RuleTargetKind.Goto => r.TargetChain!,
                    _ => r.Target.ToString().ToUpperInvariant(),
                };
                string prot = (r.ProtoInv ? "!" : "") + ((r.Header & Rule.HProto) != 0 ? Names.ProtocolName(r.Proto) : "all");
                string opt = (r.Header & Rule.HFrag) != 0 ? (r.FragInv ? "!f" : "-f") : "--";
                string inIf = (r.Header & Rule.HIn) != 0 ? (r.InInv ? "!" : "") + r.InIface + (r.InWildcard ? "+" : "") : "*";
                string outIf = (r.Header & Rule.HOut) != 0 ? (r.OutInv ? "!" : "") + r.OutIface + (r.OutWildcard ? "+" : "") : "*";
                string src = (r.Header & Rule.HSrc) != 0 ? (r.SrcInv ? "!" : "") + r.Src.ToSaveString() : any;
                string dst = (r.Header & Rule.HDst) != 0 ? (r.DstInv ? "!" : "") + r.Dst.ToSaveString() : any;
                var line = new StringBuilder();
                line.Append(CultureInfo.InvariantCulture, $"{Num(p),5} {Num(b),5} {target,-10} {prot,-4} {opt,-3} {inIf,-6} {outIf,-7} {src,-20} {dst,-20}");
                var extra = new StringBuilder();
                foreach (RuleMatch m in r.Matches) m.AppendListing(extra, r);
                if (r.Target == RuleTargetKind.Goto) extra.Append(" [goto]");
                var t = new StringBuilder();
                AppendTarget(t, r, family);
                if (r.Target is RuleTargetKind.Reject or RuleTargetKind.Log or RuleTargetKind.Ct)
                {
                    string opts = t.ToString();
                    int cut = opts.IndexOf(' ', 4); // after " -j NAME"
                    if (cut > 0) extra.Append(opts[cut..].Replace(" --", " "));
                }
                line.Append(extra);
                sb.Append(line.ToString().TrimEnd()).Append('\n');
            }
        }
        return sb.ToString();
    }
}
