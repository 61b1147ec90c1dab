using System.Globalization;
using Firewall.Core.Packets;
using Firewall.Core.Rules.IptablesSave;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Config;

/// <summary>
/// Turns <see cref="FirewallRulesOptions"/> into a <see cref="RuleSet"/>. Each JSON rule is translated into iptables
/// arguments (remembering which key produced which argument) and parsed by the same <see cref="RuleParser"/> as
/// iptables-save files, so both sources mean exactly the same; errors name the configuration key.
/// File reading is injected: Core does no I/O.
/// </summary>
public static class RulesConfigCompiler
{
    /// <summary>
    /// Compiles the configuration. <paramref name="readFile"/> returns a file's text (may throw; the error names the key).
    /// Returns null with <paramref name="errors"/> filled when anything is wrong.
    /// </summary>
    public static RuleSet? Compile(FirewallRulesOptions options, Func<string, string> readFile, RuleLogRing? logRing,
        out List<string> errors, string prefix = FirewallRulesOptions.SectionPath)
    {
        var b = new RuleSetBuilder();
        Populate(options, b, readFile, prefix);
        RuleSet? rs = b.Errors.Count == 0 ? b.Build(logRing) : null;
        errors = b.Errors;
        return rs;
    }

    /// <summary>Checks everything except the iptables-save files' contents (and, when files are listed, jump targets into them).</summary>
    internal static List<string> Validate(FirewallRulesOptions options, string prefix)
    {
        var b = new RuleSetBuilder();
        Populate(options, b, null, prefix);
        if (b.Errors.Count == 0 && (options.IptablesSaveFiles?.Count ?? 0) == 0) b.Build();
        return b.Errors;
    }

    private static void Populate(FirewallRulesOptions o, RuleSetBuilder b, Func<string, string>? readFile, string prefix)
    {
        o.Log?.Validate($"{prefix}:Log", b.Errors);

        foreach (var (name, entries) in o.Sets ?? [])
        {
            string key = $"{prefix}:Sets:{name}";
            if (name.Length == 0 || name.Length > 31 || name.Any(char.IsWhiteSpace))
            {
                b.Errors.Add($"{key}: a set name must be 1 to 31 characters without white space");
                continue;
            }
            b.AddSet(AddressSet.Create(name, entries ?? [], b.Errors, key));
        }

        var files = o.IptablesSaveFiles ?? [];
        for (int i = 0; i < files.Count; i++)
        {
            string key = $"{prefix}:IptablesSaveFiles:{i}";
            IptablesSaveFileOptions f = files[i];
            if (string.IsNullOrWhiteSpace(f?.Path))
            {
                b.Errors.Add($"{key}:Path: a file path is required");
                continue;
            }
            byte family = 0;
            if (f.Family is not null && !TryFamily(f.Family, out family))
            {
                b.Errors.Add($"{key}:Family: \"{f.Family}\" is not IPv4 or IPv6");
                continue;
            }
            if (readFile is null) continue;
            string text;
            try { text = readFile(f.Path); }
            catch (Exception e)
            {
                b.Errors.Add($"{key}:Path: cannot read \"{f.Path}\": {e.Message}");
                continue;
            }
            IptablesSaveParser.Load(text, f.Path, family, b);
        }

        // Declare every user chain before any rule, so rules may jump forward.
        var filterChains = o.Chains ?? [];
        var rawChains = o.Raw?.Chains ?? [];
        DeclareChains(b, RuleTable.Filter, filterChains, $"{prefix}:Chains");
        DeclareChains(b, RuleTable.Raw, rawChains, $"{prefix}:Raw:Chains");

        var filter = o.Filter ?? new FilterTableOptions();
        var raw = o.Raw ?? new RawTableOptions();
        BuiltIn(b, RuleTable.Filter, "INPUT", filter.Input, $"{prefix}:Filter:Input");
        BuiltIn(b, RuleTable.Filter, "FORWARD", filter.Forward, $"{prefix}:Filter:Forward");
        BuiltIn(b, RuleTable.Filter, "OUTPUT", filter.Output, $"{prefix}:Filter:Output");
        BuiltIn(b, RuleTable.Raw, "PREROUTING", raw.Prerouting, $"{prefix}:Raw:Prerouting");
        BuiltIn(b, RuleTable.Raw, "OUTPUT", raw.Output, $"{prefix}:Raw:Output");
        foreach (var (name, c) in filterChains) Rules(b, RuleTable.Filter, name, c?.Rules, $"{prefix}:Chains:{name}");
        foreach (var (name, c) in rawChains) Rules(b, RuleTable.Raw, name, c?.Rules, $"{prefix}:Raw:Chains:{name}");
    }

    private static bool TryFamily(string s, out byte family)
    {
        family = s.ToLowerInvariant() switch { "ipv4" or "4" or "inet" => 4, "ipv6" or "6" or "inet6" => 6, _ => 0 };
        return family != 0;
    }

    private static void DeclareChains(RuleSetBuilder b, RuleTable table, Dictionary<string, ChainOptions> chains, string key)
    {
        foreach (var name in chains.Keys)
        {
            if (RuleSetBuilder.IsBuiltIn(table, name))
            {
                b.Errors.Add($"{key}:{name}: {name} is a built-in chain; configure it under {(table == RuleTable.Filter ? "Filter" : "Raw")}");
                continue;
            }
            b.DeclareChain(table, name, 0, $"{key}:{name}");
        }
    }

    private static void BuiltIn(RuleSetBuilder b, RuleTable table, string chain, BuiltInChainOptions? c, string key)
    {
        if (c is null) return;
        if (c.Policy is not null)
        {
            if (c.Policy.Equals("ACCEPT", StringComparison.OrdinalIgnoreCase)) b.SetPolicy(table, chain, 0, Verdict.Accept, $"{key}:Policy");
            else if (c.Policy.Equals("DROP", StringComparison.OrdinalIgnoreCase)) b.SetPolicy(table, chain, 0, Verdict.Drop, $"{key}:Policy");
            else b.Errors.Add($"{key}:Policy: \"{c.Policy}\" is not ACCEPT or DROP");
        }
        Rules(b, table, chain, c.Rules, key);
    }

    private static void Rules(RuleSetBuilder b, RuleTable table, string chain, List<RuleOptions>? rules, string chainKey)
    {
        if (rules is null) return;
        for (int i = 0; i < rules.Count; i++)
        {
            string key = $"{chainKey}:Rules:{i}";
            RuleOptions? r = rules[i];
            if (r is null) continue;
            var args = new List<string>();
            var keys = new List<string>();
            try
            {
                if (!Translate(r, args, keys, key, b.Errors)) continue;
            }
            catch (RuleParseException e)
            {
                b.Errors.Add($"{key}: {e.Message}");
                continue;
            }
            var ctx = new RuleParseContext { Table = table, Chain = chain, Family = 0, Sets = b.Sets, Origin = key };
            try
            {
                foreach (Rule rule in RuleParser.Parse(args, ctx)) b.AddRule(rule);
            }
            catch (RuleParseException e)
            {
                string? k = e.ArgIndex >= 0 && e.ArgIndex < keys.Count ? keys[e.ArgIndex] : null;
                if (k == "Iptables") b.Errors.Add($"{key}:Iptables: {e.Message}");
                else if (k is not null) b.Errors.Add($"{key}:{k}: {e.Detail}");
                else b.Errors.Add($"{key}: {e.Message}");
            }
        }
    }

    /// <summary>Builds the iptables arguments for a JSON rule; false (with errors added) when the keys do not fit together.</summary>
    private static bool Translate(RuleOptions r, List<string> args, List<string> keys, string key, List<string> errors)
    {
        void Add(string k, params string[] tokens)
        {
            foreach (string t in tokens) { args.Add(t); keys.Add(k); }
        }
        // "!value" → "!", option, value
        void AddInv(string k, string option, string value)
        {
            string v = value.Trim();
            if (v.StartsWith('!')) { Add(k, "!"); v = v[1..].TrimStart(); }
            Add(k, option, v);
        }

        int before = errors.Count;
        if (r.Iptables is not null)
        {
            var others = typeof(RuleOptions).GetProperties()
                .Where(p => p.Name != nameof(RuleOptions.Iptables) && p.GetValue(r) is not null).Select(p => p.Name).ToList();
            if (others.Count > 0)
            {
                errors.Add($"{key}:Iptables: cannot be combined with {string.Join(", ", others)} (write the whole rule in iptables syntax)");
                return false;
            }
            List<string> tokens = IptablesSaveParser.Tokenize(r.Iptables);
            if (tokens.Count > 0 && tokens[0] is "-A" or "--append" or "-I" or "-N" or "-P")
            {
                errors.Add($"{key}:Iptables: leave out \"{tokens[0]} CHAIN\"; the chain is given by where the rule is");
                return false;
            }
            Add("Iptables", tokens.ToArray());
            return true;
        }

        if (r.Family is not null)
        {
            if (!TryFamily(r.Family, out byte fam)) errors.Add($"{key}:Family: \"{r.Family}\" is not IPv4 or IPv6");
            else Add("Family", fam == 4 ? "-4" : "-6");
        }
        if (r.Source is not null) AddInv("Source", "-s", r.Source);
        if (r.Destination is not null) AddInv("Destination", "-d", r.Destination);
        if (r.InInterface is not null) AddInv("InInterface", "-i", r.InInterface);
        if (r.OutInterface is not null) AddInv("OutInterface", "-o", r.OutInterface);
        byte proto = 0;
        bool protoInv = false;
        if (r.Protocol is not null)
        {
            string p = r.Protocol.Trim();
            protoInv = p.StartsWith('!');
            if (!Names.TryParseProtocol(protoInv ? p[1..].Trim() : p, out proto)) { errors.Add($"{key}:Protocol: \"{r.Protocol}\" is not a protocol"); proto = 0; }
            AddInv("Protocol", "-p", p);
        }
        bool tcp = proto == IpProto.Tcp && !protoInv, udp = proto == IpProto.Udp && !protoInv;
        bool ported = !protoInv && proto is IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp or IpProto.Dccp;

        foreach (var (name, value, single, multi) in (ReadOnlySpan<(string, string?, string, string)>)
                 [("SPort", r.SPort, "--sport", "--sports"), ("DPort", r.DPort, "--dport", "--dports")])
        {
            if (value is null) continue;
            if (!ported) { errors.Add($"{key}:{name}: needs Protocol tcp, udp, udplite, sctp or dccp"); continue; }
            string v = value.Trim();
            bool inv = v.StartsWith('!');
            string list = inv ? v[1..].Trim() : v;
            if (list.Contains(',') || !(tcp || udp)) Add(name, "-m", "multiport");
            if (inv) Add(name, "!");
            Add(name, list.Contains(',') || !(tcp || udp) ? multi : single, list);
        }
        if (r.TcpFlags is not null || r.Syn is not null)
        {
            if (!tcp) errors.Add($"{key}:{(r.TcpFlags is not null ? "TcpFlags" : "Syn")}: needs Protocol tcp");
            else if (r.TcpFlags is not null && r.Syn is not null) errors.Add($"{key}:Syn: cannot be combined with TcpFlags");
            else if (r.Syn is { } syn)
            {
                if (!syn) Add("Syn", "!");
                Add("Syn", "--syn");
            }
            else
            {
                string v = r.TcpFlags!.Trim();
                bool inv = v.StartsWith('!');
                string[] parts = (inv ? v[1..] : v).Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2) errors.Add($"{key}:TcpFlags: \"{r.TcpFlags}\" is not \"MASK COMPARE\" (e.g. \"FIN,SYN,RST,ACK SYN\")");
                else
                {
                    if (inv) Add("TcpFlags", "!");
                    Add("TcpFlags", "--tcp-flags", parts[0], parts[1]);
                }
            }
        }
        if (r.IcmpType is not null)
        {
            if (!protoInv && proto == IpProto.Icmp) AddInv("IcmpType", "--icmp-type", r.IcmpType);
            else if (!protoInv && proto == IpProto.Icmpv6) AddInv("IcmpType", "--icmpv6-type", r.IcmpType);
            else errors.Add($"{key}:IcmpType: needs Protocol icmp or icmpv6");
        }
        if (r.State is { Count: > 0 }) AddList("State", "--ctstate", r.State);
        if (r.CtStatus is { Count: > 0 }) AddList("CtStatus", "--ctstatus", r.CtStatus);
        if (r.CtDirection is not null) Add("CtDirection", "-m", "conntrack", "--ctdir", r.CtDirection.Trim());
        if (r.Limit is not null || r.LimitBurst is not null)
        {
            Add(r.Limit is not null ? "Limit" : "LimitBurst", "-m", "limit");
            if (r.Limit is not null) Add("Limit", "--limit", r.Limit.Trim());
            if (r.LimitBurst is { } burst) Add("LimitBurst", "--limit-burst", burst.ToString(CultureInfo.InvariantCulture));
        }
        if (r.MatchSet is not null)
        {
            string dir = r.MatchSetDirection?.Trim() ?? "src";
            Add("MatchSet", "-m", "set");
            string v = r.MatchSet.Trim();
            if (v.StartsWith('!')) { Add("MatchSet", "!"); v = v[1..].Trim(); }
            Add("MatchSet", "--match-set", v);
            Add(r.MatchSetDirection is null ? "MatchSet" : "MatchSetDirection", dir);
        }
        else if (r.MatchSetDirection is not null) errors.Add($"{key}:MatchSetDirection: needs MatchSet");
        if (r.Comment is not null) Add("Comment", "-m", "comment", "--comment", r.Comment);

        if (r.Action is not null && r.Goto is not null) errors.Add($"{key}:Goto: cannot be combined with Action");
        else if (r.Goto is not null) Add("Goto", "-g", r.Goto.Trim());
        else if (r.Action is not null)
        {
            string a = r.Action.Trim();
            Add("Action", "-j", a is "accept" or "drop" or "reject" or "log" or "return" ? a.ToUpperInvariant() : a);
        }
        else errors.Add($"{key}:Action: required (ACCEPT, DROP, REJECT, LOG, RETURN, a chain name, or in the raw table CT or NOTRACK)");
        string action = (r.Action ?? "").Trim().ToUpperInvariant();
        TargetOption("RejectWith", r.RejectWith, "REJECT", "--reject-with");
        TargetOption("LogPrefix", r.LogPrefix, "LOG", "--log-prefix");
        TargetOption("LogLevel", r.LogLevel, "LOG", "--log-level");
        TargetOption("Helper", r.Helper, "CT", "--helper");
        TargetOption("Zone", r.Zone?.ToString(CultureInfo.InvariantCulture), "CT", "--zone");
        return errors.Count == before;

        void TargetOption(string k, string? value, string needs, string option)
        {
            if (value is null) return;
            if (action != needs) errors.Add($"{key}:{k}: needs Action {needs}");
            else Add(k, option, value);
        }

        void AddList(string k, string option, List<string> items)
        {
            bool inv = items[0].TrimStart().StartsWith('!');
            var cleaned = new List<string>(items.Count);
            for (int i = 0; i < items.Count; i++)
            {
                string s = (items[i] ?? "").Trim();
                if (i == 0 && inv) s = s[1..].Trim();
                if (s.StartsWith('!')) { errors.Add($"{key}:{k}:{i}: only the first item may start with \"!\" (it inverts the whole list)"); return; }
                cleaned.Add(s);
            }
            Add(k, "-m", "conntrack");
            if (inv) Add(k, "!");
            Add(k, option, string.Join(',', cleaned));
        }
    }
}
