using System.Globalization;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Matches;

namespace Firewall.Core.Rules.Parsing;

/// <summary>
/// Parses one rule's iptables arguments (everything after <c>-A CHAIN</c>) into <see cref="Rule"/>s: comma lists
/// in <c>-s</c>/<c>-d</c> expand into one rule per address pair, as iptables does. Anything not supported is an
/// error naming the option; nothing is ignored.
/// </summary>
public static class RuleParser
{
    private static readonly HashSet<string> UnsupportedTargets = new(StringComparer.Ordinal)
    {
        "MASQUERADE", "SNAT", "DNAT", "REDIRECT", "NETMAP", "MARK", "CONNMARK", "TCPMSS", "NFLOG", "NFQUEUE", "QUEUE",
        "TPROXY", "ULOG", "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "SET", "AUDIT", "CHECKSUM", "SECMARK", "CONNSECMARK",
        "TEE", "TRACE", "IDLETIMER", "LED", "SYNPROXY", "RATEEST", "HMARK", "CLUSTERIP", "ECN", "DNPT", "SNPT", "IPMARK",
    };

    private static readonly HashSet<string> TargetNames = new(StringComparer.Ordinal)
    {
        "ACCEPT", "DROP", "REJECT", "LOG", "RETURN", "CT", "NOTRACK", "QUEUE",
    };

    /// <summary>Parses the arguments. Returns an empty list when <c>-4</c>/<c>-6</c> excludes the rule from this family.</summary>
    public static List<Rule> Parse(IReadOnlyList<string> args, RuleParseContext ctx)
    {
        // Pre-scan -s / -d lists: iptables turns "-s a,b -d c" into one rule per pair.
        var srcs = ScanAddresses(args, "-s", "--source", "--src");
        var dsts = ScanAddresses(args, "-d", "--destination", "--dst");
        var result = new List<Rule>(1);
        bool anyPair = false;
        for (int i = 0; i < Math.Max(1, srcs.Count); i++)
        {
            for (int j = 0; j < Math.Max(1, dsts.Count); j++)
            {
                // With lists, pairs of different families cannot match anything: leave them out.
                if ((srcs.Count > 1 || dsts.Count > 1) && srcs.Count > 0 && dsts.Count > 0 && srcs[i] != dsts[j]) continue;
                anyPair = true;
                Rule? r = ParseOne(args, ctx, i, j);
                if (r is null) return result;
                result.Add(r);
            }
        }
        if (!anyPair) throw new RuleParseException(null, "the source and destination lists have no pair of the same family", -1);
        return result;
    }

    /// <summary>Family (4 or 6, 0 unparsable) of each element of the first <c>-s</c>/<c>-d</c> list.</summary>
    private static List<byte> ScanAddresses(IReadOnlyList<string> args, string a, string b, string c)
    {
        var fams = new List<byte>();
        for (int i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] != a && args[i] != b && args[i] != c) continue;
            foreach (string part in args[i + 1].Split(','))
                fams.Add(AddressSpec.TryParse(part, out var s, out _) ? (s.IsV6 ? (byte)6 : (byte)4) : (byte)0);
            break;
        }
        return fams;
    }

    internal static void RequireFamily(Rule rule, byte family, ArgCursor? args, string what, int argIndex = -2)
    {
        if (rule.Family == 0) { rule.Family = family; return; }
        if (rule.Family == family) return;
        int idx = argIndex != -2 ? argIndex : args is null ? -1 : args.Pos - 1;
        throw new RuleParseException(null, $"{what} is IPv{family}, but the rule is IPv{rule.Family}", idx);
    }

    private static Rule? ParseOne(IReadOnlyList<string> args, RuleParseContext ctx, int srcPick, int dstPick)
    {
        var rule = new Rule { Origin = ctx.Origin, Table = ctx.Table, Chain = ctx.Chain, Family = ctx.Family };
        var matches = new List<(RuleMatch Match, int ArgIndex)>();
        var seen = new HashSet<(RuleMatch, string)>();
        var cur = new ArgCursor(args);
        bool implicitLoaded = false, headerSeenS = false, headerSeenD = false;
        string? rejectGiven = null;
        int targetIndex = -1, optionIndex = -1;

        while (!cur.AtEnd)
        {
            int idx = cur.Pos;
            string tok = cur.Take();
            bool inv = false;
            if (tok == "!")
            {
                if (cur.AtEnd) throw new RuleParseException(null, "\"!\" is not followed by an option", idx);
                inv = true;
                idx = cur.Pos;
                tok = cur.Take();
            }
            cur.OptionIndex = idx;
            cur.Option = tok;
            switch (tok)
            {
                case "-s" or "--source" or "--src":
                    if (headerSeenS) throw cur.Error("only one -s is allowed");
                    headerSeenS = true;
                    rule.Src = ParseAddress(cur, rule, inv, srcPick);
                    rule.SrcInv = inv; rule.Header |= Rule.HSrc;
                    break;
                case "-d" or "--destination" or "--dst":
                    if (headerSeenD) throw cur.Error("only one -d is allowed");
                    headerSeenD = true;
                    rule.Dst = ParseAddress(cur, rule, inv, dstPick);
                    rule.DstInv = inv; rule.Header |= Rule.HDst;
                    break;
                case "-i" or "--in-interface":
                    (rule.InIface, rule.InWildcard) = ParseInterface(cur);
                    rule.InInv = inv; rule.Header |= Rule.HIn;
                    if (ctx.ChainIsBuiltIn && ctx.Chain == "OUTPUT") throw cur.Error($"can't use -i with {ctx.Chain}");
                    break;
                case "-o" or "--out-interface":
                    (rule.OutIface, rule.OutWildcard) = ParseInterface(cur);
                    rule.OutInv = inv; rule.Header |= Rule.HOut;
                    if (ctx.ChainIsBuiltIn && ctx.Chain is "INPUT" or "PREROUTING") throw cur.Error($"can't use -o with {ctx.Chain}");
                    break;
                case "-p" or "--protocol":
                {
                    if ((rule.Header & Rule.HProto) != 0) throw cur.Error("only one -p is allowed");
                    string v = cur.Value();
                    if (!Names.TryParseProtocol(v, out rule.Proto)) throw cur.ValueError($"unknown protocol \"{v}\"");
                    if (rule.Proto == 0)
                    {
                        if (inv) throw cur.ValueError("rule would never match protocol");
                        break;
                    }
                    rule.ProtoInv = inv; rule.Header |= Rule.HProto;
                    if (!inv && rule.Proto == IpProto.Icmp) rule.SoftFamily = 4;
                    if (!inv && rule.Proto == IpProto.Icmpv6) rule.SoftFamily = 6;
                    break;
                }
                case "-f" or "--fragment":
                    RequireFamily(rule, 4, null, "-f", idx);
                    rule.FragInv = inv; rule.Header |= Rule.HFrag;
                    break;
                case "-m" or "--match":
                {
                    NoInvert(inv, cur);
                    string name = cur.Value();
                    RuleMatch m = CreateMatch(name) ?? throw new RuleParseException(null, $"unsupported match -m {name}", cur.Pos - 1);
                    matches.Add((m, cur.Pos - 1));
                    break;
                }
                case "-j" or "--jump" or "-g" or "--goto":
                    NoInvert(inv, cur);
                    if (targetIndex >= 0) throw cur.Error("only one -j or -g is allowed");
                    targetIndex = idx;
                    ParseTarget(cur.Value(), tok is "-g" or "--goto", cur, rule);
                    break;
                case "-c" or "--set-counters":
                {
                    string p = cur.Value(), b = cur.Value();
                    if (!long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out rule.InitPackets) ||
                        !long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out rule.InitBytes))
                        throw cur.Error($"\"{p} {b}\" are not packet and byte counts");
                    break;
                }
                case "-4" or "--ipv4" or "-6" or "--ipv6":
                {
                    byte fam = tok is "-4" or "--ipv4" ? (byte)4 : (byte)6;
                    if (ctx.Family != 0 && ctx.Family != fam) return null; // iptables-restore skips rules for the other family
                    RequireFamily(rule, fam, null, tok, idx);
                    break;
                }
                case "-t" or "--table":
                    throw cur.Error("a table cannot be chosen inside a rule");
                default:
                    if (tok.Length < 2 || tok[0] != '-') throw new RuleParseException(null, $"bad argument \"{tok}\"", idx);
                    if (rule.Target != RuleTargetKind.None && TryParseTargetOption(tok, inv, cur, rule, ref rejectGiven))
                    {
                        if (tok is "--reject-with" or "--helper") optionIndex = idx;
                        break;
                    }
                    bool done = false;
                    for (int k = matches.Count - 1; k >= 0 && !done; k--)
                    {
                        if (!matches[k].Match.TryParseOption(tok, inv, cur, rule, ctx)) continue;
                        if (!seen.Add((matches[k].Match, tok))) throw new RuleParseException(tok, "may be given only once per match", idx);
                        done = true;
                    }
                    if (done) break;
                    if (!implicitLoaded && (rule.Header & Rule.HProto) != 0 && !rule.ProtoInv && CreateProtocolMatch(rule.Proto) is { } pm)
                    {
                        implicitLoaded = true;
                        if (pm.TryParseOption(tok, inv, cur, rule, ctx))
                        {
                            seen.Add((pm, tok));
                            matches.Add((pm, idx));
                            break;
                        }
                    }
                    throw new RuleParseException(null, $"unsupported option {tok}", idx);
            }
        }

        if (ctx.Family == 0 && rule.Family == 0 && rule.SoftFamily != 0) rule.Family = rule.SoftFamily;
        foreach (var (m, i) in matches) m.Finish(rule, ctx, i);
        rule.Matches = new RuleMatch[matches.Count];
        for (int i = 0; i < matches.Count; i++) rule.Matches[i] = matches[i].Match;
        FinishTarget(rule, ctx, rejectGiven, targetIndex, optionIndex < 0 ? targetIndex : optionIndex);
        return rule;
    }

    private static void NoInvert(bool inv, ArgCursor cur)
    {
        if (inv) throw cur.Error("cannot be inverted");
    }

    private static AddressSpec ParseAddress(ArgCursor cur, Rule rule, bool inv, int pick)
    {
        string v = cur.Value();
        string[] parts = v.Split(',');
        if (parts.Length > 1 && inv) throw cur.Error("! is not allowed with multiple addresses");
        string part = parts[Math.Min(pick, parts.Length - 1)];
        if (!AddressSpec.TryParse(part, out AddressSpec spec, out string err)) throw cur.ValueError(err);
        RequireFamily(rule, spec.IsV6 ? (byte)6 : (byte)4, cur, part);
        return spec;
    }

    private static (string, bool) ParseInterface(ArgCursor cur)
    {
        string v = cur.Value();
        if (v.Length == 0 || v.Length > 15) throw cur.ValueError($"interface name \"{v}\" must be 1 to 15 characters");
        foreach (char c in v)
            if (c is '/' or ' ' or '\t' or ':') throw cur.ValueError($"interface name \"{v}\" contains \"{c}\"");
        return v.EndsWith('+') ? (v[..^1], true) : (v, false);
    }

    /// <summary>The match for <c>-m NAME</c>, or null when unsupported.</summary>
    public static RuleMatch? CreateMatch(string name) => name switch
    {
        "state" => new StateMatch(),
        "conntrack" => new ConntrackMatch(),
        "tcp" => new TcpUdpMatch(IpProto.Tcp),
        "udp" => new TcpUdpMatch(IpProto.Udp),
        "icmp" => new IcmpMatch(false),
        "icmp6" or "icmpv6" or "ipv6-icmp" => new IcmpMatch(true),
        "multiport" => new MultiportMatch(),
        "limit" => new LimitMatch(),
        "comment" => new CommentMatch(),
        "set" => new SetMatch(),
        _ => null,
    };

    private static RuleMatch? CreateProtocolMatch(byte proto) => proto switch
    {
        IpProto.Tcp => new TcpUdpMatch(IpProto.Tcp),
        IpProto.Udp => new TcpUdpMatch(IpProto.Udp),
        IpProto.Icmp => new IcmpMatch(false),
        IpProto.Icmpv6 => new IcmpMatch(true),
        _ => null,
    };

    /// <summary>True when <paramref name="name"/> can be a user-defined chain name.</summary>
    public static bool IsValidChainName(string name, out string error)
    {
        error = "";
        if (name.Length == 0 || name.Length > 28) error = $"chain name \"{name}\" must be 1 to 28 characters";
        else if (name[0] is '-' or '!') error = $"chain name \"{name}\" must not start with '-' or '!'";
        else if (name.Any(char.IsWhiteSpace)) error = $"chain name \"{name}\" must not contain white space";
        else if (TargetNames.Contains(name) || UnsupportedTargets.Contains(name)) error = $"chain name \"{name}\" is a target name";
        return error.Length == 0;
    }

    private static void ParseTarget(string name, bool isGoto, ArgCursor cur, Rule rule)
    {
        if (isGoto)
        {
            if (TargetNames.Contains(name)) throw cur.ValueError($"-g needs a chain, \"{name}\" is a target");
            rule.Target = RuleTargetKind.Goto;
            rule.TargetChain = name;
            return;
        }
        switch (name)
        {
            case "ACCEPT": rule.Target = RuleTargetKind.Accept; return;
            case "DROP": rule.Target = RuleTargetKind.Drop; return;
            case "RETURN": rule.Target = RuleTargetKind.Return; return;
            case "REJECT": rule.Target = RuleTargetKind.Reject; return;
            case "LOG": rule.Target = RuleTargetKind.Log; return;
            case "CT": rule.Target = RuleTargetKind.Ct; return;
            case "NOTRACK": rule.Target = RuleTargetKind.Ct; rule.CtNoTrack = true; return;
        }
        if (UnsupportedTargets.Contains(name)) throw cur.ValueError($"unsupported target -j {name}");
        if (!IsValidChainName(name, out string err)) throw cur.ValueError(err);
        rule.Target = RuleTargetKind.Jump;
        rule.TargetChain = name;
    }

    private static bool TryParseTargetOption(string opt, bool inv, ArgCursor cur, Rule rule, ref string? rejectGiven)
    {
        switch (rule.Target)
        {
            case RuleTargetKind.Reject when opt == "--reject-with":
                NoInvert(inv, cur);
                rejectGiven = cur.Value();
                return true;
            case RuleTargetKind.Log:
                switch (opt)
                {
                    case "--log-prefix":
                        NoInvert(inv, cur);
                        if (cur.AtEnd) throw cur.Error("needs a value");
                        rule.LogPrefix = cur.Take();
                        if (rule.LogPrefix.Length > 29) throw cur.ValueError("prefix is longer than 29 characters");
                        if (rule.LogPrefix.Contains('\n')) throw cur.ValueError("prefix must not contain a newline");
                        return true;
                    case "--log-level":
                    {
                        NoInvert(inv, cur);
                        string v = cur.Value();
                        if (!Names.TryParseLogLevel(v, out rule.LogLevel)) throw cur.ValueError($"\"{v}\" is not a log level (0-7 or emerg … debug)");
                        return true;
                    }
                    case "--log-tcp-sequence": rule.LogFlags |= LogFlagTcpSeq; return true;
                    case "--log-tcp-options": rule.LogFlags |= LogFlagTcpOpt; return true;
                    case "--log-ip-options": rule.LogFlags |= LogFlagIpOpt; return true;
                    case "--log-uid": rule.LogFlags |= LogFlagUid; return true;
                    case "--log-macdecode": rule.LogFlags |= LogFlagMac; return true;
                }
                return false;
            case RuleTargetKind.Ct:
                switch (opt)
                {
                    case "--notrack": NoInvert(inv, cur); rule.CtNoTrack = true; return true;
                    case "--helper":
                        NoInvert(inv, cur);
                        rule.TargetChain = cur.Value(); // helper name, resolved in FinishTarget
                        return true;
                    case "--zone":
                    {
                        NoInvert(inv, cur);
                        string v = cur.Value();
                        if (!ushort.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ushort z))
                            throw cur.ValueError($"\"{v}\" is not a zone number (0-65535; \"mark\" zones are not supported)");
                        rule.CtZone = z;
                        return true;
                    }
                    case "--zone-orig" or "--zone-reply" or "--ctevents" or "--expevents" or "--timeout":
                        throw cur.Error($"unsupported option {opt}");
                }
                return false;
        }
        return false;
    }

    internal const byte LogFlagTcpSeq = 0x01, LogFlagTcpOpt = 0x02, LogFlagIpOpt = 0x04, LogFlagUid = 0x08, LogFlagMac = 0x20;

    private static void FinishTarget(Rule rule, RuleParseContext ctx, string? rejectGiven, int targetIndex, int optionIndex)
    {
        switch (rule.Target)
        {
            case RuleTargetKind.Reject:
            {
                if (ctx.Table != RuleTable.Filter) throw new RuleParseException(null, "REJECT is only valid in the filter table", targetIndex);
                RejectKind k;
                if (rejectGiven is null) k = rule.Family == 6 ? RejectKind.Icmp6PortUnreachable : RejectKind.IcmpPortUnreachable;
                else if (!(rule.Family != 6 && RejectKinds.TryParse(rejectGiven, 4, out k)) && !(rule.Family != 4 && RejectKinds.TryParse(rejectGiven, 6, out k)))
                    throw new RuleParseException("--reject-with", $"\"{rejectGiven}\" is not a reject type for IPv{(rule.Family == 0 ? "4 or IPv6" : rule.Family.ToString(CultureInfo.InvariantCulture))}", optionIndex);
                if (k == RejectKind.TcpReset && (!rule.HasProto || rule.ProtoInv || rule.Proto != IpProto.Tcp))
                    throw new RuleParseException("--reject-with", "tcp-reset needs -p tcp (not inverted)", optionIndex);
                rule.RejectGiven = k;
                rule.RejectV4 = RejectKinds.IsV6(k) ? RejectKinds.CounterpartV4(k) : k;
                rule.RejectV6 = RejectKinds.IsV4(k) ? RejectKinds.CounterpartV6(k) : k;
                break;
            }
            case RuleTargetKind.Ct:
            {
                if (ctx.Table != RuleTable.Raw) throw new RuleParseException(null, "CT and NOTRACK are only valid in the raw table", targetIndex);
                string? helper = rule.TargetChain;
                rule.TargetChain = null;
                if (rule.CtNoTrack && (helper is not null || rule.CtZone >= 0))
                    throw new RuleParseException(null, "CT --notrack cannot be combined with --helper or --zone", targetIndex);
                if (helper is not null)
                {
                    if (!rule.HasProto || rule.ProtoInv || (rule.Proto != IpProto.Tcp && rule.Proto != IpProto.Udp))
                        throw new RuleParseException("--helper", "you must specify a L4 protocol (-p tcp or -p udp) and not use inversions on it", optionIndex);
                    if (!HelperIds.TryParse(helper, rule.Proto, out rule.CtHelper))
                        throw new RuleParseException("--helper", $"no such helper \"{helper}\" for {Names.ProtocolName(rule.Proto)} (supported: ftp and irc over tcp, tftp over udp)", optionIndex);
                }
                if (!rule.CtNoTrack && helper is null && rule.CtZone < 0)
                    throw new RuleParseException(null, "-j CT needs --notrack, --helper or --zone", targetIndex);
                break;
            }
            case RuleTargetKind.Jump or RuleTargetKind.Goto:
                if (!IsValidChainName(rule.TargetChain!, out string err))
                    throw new RuleParseException(null, err, targetIndex);
                break;
        }
    }
}
