using System.Globalization;
using System.Text;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.IptablesSave;

/// <summary>
/// Reads iptables-save / ip6tables-save text (the iptables-restore input format) into a <see cref="RuleSetBuilder"/>.
/// Tables <c>raw</c> and <c>filter</c>; commands <c>:CHAIN POLICY [p:b]</c>, <c>-A</c>, <c>-I</c>, <c>-N</c>, <c>-P</c>,
/// <c>COMMIT</c>; <c>[p:b]</c> counter prefixes; quoted arguments; <c>#</c> comments. Everything else is an error
/// "FILE:LINE: message". Rules of the file apply only to its family (4 or 6), as the kernel's separate tables do.
/// </summary>
public static class IptablesSaveParser
{
    private sealed class Block
    {
        public required RuleTable Table;
        public required int Line;
        public bool Skip;
        public readonly HashSet<string> Declared = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Parses <paramref name="text"/> into <paramref name="builder"/> (errors go to <see cref="RuleSetBuilder.Errors"/>).
    /// <paramref name="family"/>: 4, 6, or 0 to tell from the content. Returns the family used (0 when it could not be told).
    /// </summary>
    public static byte Load(string text, string fileName, byte family, RuleSetBuilder builder)
    {
        string[] lines = text.Split('\n');
        if (family == 0)
        {
            family = SniffFamily(lines, fileName, out string? why);
            if (family == 0)
            {
                builder.Errors.Add(why!);
                return 0;
            }
        }
        else if (family is not (4 or 6)) throw new ArgumentOutOfRangeException(nameof(family));

        Block? block = null;
        var seenTables = new HashSet<RuleTable>();
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimEnd('\r').Trim();
            string where = $"{fileName}:{n + 1}";
            if (line.Length == 0 || line[0] == '#') continue;
            if (line[0] == '*')
            {
                if (block is not null)
                {
                    builder.Errors.Add($"{where}: COMMIT expected before a new table (table opened at line {block.Line})");
                    return family;
                }
                string name = line[1..].Trim();
                block = name switch
                {
                    "filter" => new Block { Table = RuleTable.Filter, Line = n + 1 },
                    "raw" => new Block { Table = RuleTable.Raw, Line = n + 1 },
                    _ => new Block { Table = RuleTable.Filter, Line = n + 1, Skip = true },
                };
                if (block.Skip)
                    builder.Errors.Add(name is "nat" or "mangle" or "security"
                        ? $"{where}: unsupported table *{name} (only *filter and *raw are supported)"
                        : $"{where}: unknown table *{name}");
                else if (!seenTables.Add(block.Table))
                {
                    builder.Errors.Add($"{where}: table *{name} appears twice");
                    block.Skip = true;
                }
                continue;
            }
            if (line == "COMMIT")
            {
                if (block is null) builder.Errors.Add($"{where}: COMMIT without a table");
                block = null;
                continue;
            }
            if (block is null)
            {
                builder.Errors.Add($"{where}: expected *filter or *raw before \"{Short(line)}\"");
                continue;
            }
            if (block.Skip) continue;
            try
            {
                if (line[0] == ':') Declare(line, where, block, family, builder);
                else Command(line, where, block, family, builder);
            }
            catch (RuleParseException e)
            {
                builder.Errors.Add($"{where}: {e.Message}");
            }
        }
        if (block is not null)
            builder.Errors.Add($"{fileName}:{lines.Length}: COMMIT expected at the end (table opened at line {block.Line})");
        return family;
    }

    private static string Short(string s) => s.Length > 40 ? s[..40] + "…" : s;

    private static void Declare(string line, string where, Block block, byte family, RuleSetBuilder builder)
    {
        string[] parts = line[1..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2) throw new RuleParseException(null, $"bad chain line \"{line}\" (expected :CHAIN POLICY [packets:bytes])", -1);
        string chain = parts[0], policy = parts[1];
        long p = 0, b = 0;
        if (parts.Length > 2 && !TryCounters(parts[2], out p, out b))
            throw new RuleParseException(null, $"bad counters \"{parts[2]}\" (expected [packets:bytes])", -1);
        if (!block.Declared.Add(chain)) throw new RuleParseException(null, $"chain {chain} is declared twice", -1);
        if (RuleSetBuilder.IsBuiltIn(block.Table, chain))
        {
            Verdict v = policy switch
            {
                "ACCEPT" => Verdict.Accept,
                "DROP" => Verdict.Drop,
                _ => throw new RuleParseException(null, $"bad policy \"{policy}\" for {chain} (ACCEPT or DROP)", -1),
            };
            builder.SetPolicy(block.Table, chain, family, v, where, p, b);
        }
        else
        {
            if (policy != "-") throw new RuleParseException(null, $"user-defined chain {chain} cannot have a policy (write \"-\")", -1);
            builder.DeclareChain(block.Table, chain, family, where);
        }
    }

    private static bool TryCounters(string s, out long packets, out long bytes)
    {
        packets = bytes = 0;
        if (s.Length < 5 || s[0] != '[' || s[^1] != ']') return false;
        int colon = s.IndexOf(':');
        return colon > 0 &&
               long.TryParse(s.AsSpan(1, colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out packets) &&
               long.TryParse(s.AsSpan(colon + 1, s.Length - colon - 2), NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
    }

    private static void Command(string line, string where, Block block, byte family, RuleSetBuilder builder)
    {
        List<string> tokens = Tokenize(line);
        int start = 0;
        long cp = 0, cb = 0;
        bool counted = false;
        if (tokens.Count > 0 && tokens[0].StartsWith('['))
        {
            if (!TryCounters(tokens[0], out cp, out cb)) throw new RuleParseException(null, $"bad counters \"{tokens[0]}\" (expected [packets:bytes])", -1);
            counted = true;
            start = 1;
        }
        if (tokens.Count <= start + 1) throw new RuleParseException(null, $"incomplete command \"{Short(line)}\"", -1);
        string cmd = tokens[start], chain = tokens[start + 1];
        switch (cmd)
        {
            case "-N" or "--new-chain" or "--new":
                if (!block.Declared.Add(chain)) throw new RuleParseException(null, $"chain {chain} already exists", -1);
                if (RuleSetBuilder.IsBuiltIn(block.Table, chain)) throw new RuleParseException(null, $"chain {chain} already exists (built-in)", -1);
                builder.DeclareChain(block.Table, chain, family, where);
                return;
            case "-P" or "--policy":
            {
                if (tokens.Count != start + 3) throw new RuleParseException(null, "-P needs CHAIN and ACCEPT or DROP", -1);
                Verdict v = tokens[start + 2] switch
                {
                    "ACCEPT" => Verdict.Accept,
                    "DROP" => Verdict.Drop,
                    _ => throw new RuleParseException(null, $"bad policy \"{tokens[start + 2]}\" (ACCEPT or DROP)", -1),
                };
                builder.SetPolicy(block.Table, chain, family, v, where);
                return;
            }
            case "-A" or "--append" or "-I" or "--insert":
                break;
            default:
                throw new RuleParseException(null, $"unsupported command {cmd} (only -A, -I, -N, -P and :CHAIN lines)", -1);
        }
        if (!RuleSetBuilder.IsBuiltIn(block.Table, chain) && !block.Declared.Contains(chain))
            throw new RuleParseException(null, $"chain {chain} does not exist (declare it with :{chain} - [0:0])", -1);
        int argStart = start + 2;
        int position = -1;
        if (cmd is "-I" or "--insert")
        {
            position = 0;
            if (argStart < tokens.Count && int.TryParse(tokens[argStart], NumberStyles.None, CultureInfo.InvariantCulture, out int pos))
            {
                if (pos < 1) throw new RuleParseException(null, $"bad rule number {pos}", -1);
                position = pos - 1;
                argStart++;
            }
        }
        var ctx = new RuleParseContext { Table = block.Table, Chain = chain, Family = family, Sets = builder.Sets, Origin = where };
        List<Rule> rules = RuleParser.Parse(tokens.GetRange(argStart, tokens.Count - argStart), ctx);
        for (int i = 0; i < rules.Count; i++)
        {
            Rule r = rules[i];
            if (counted) { r.InitPackets = cp; r.InitBytes = cb; }
            builder.AddRule(r, position < 0 ? -1 : position + i);
        }
    }

    /// <summary>Splits a line into words; double or single quotes group words, backslash escapes the next character.</summary>
    public static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var cur = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == '\\' && i + 1 < line.Length && quote == '"') { cur.Append(line[++i]); continue; }
                if (c == quote) { quote = '\0'; continue; }
                cur.Append(c);
                continue;
            }
            if (c is '"' or '\'') { quote = c; inWord = true; continue; }
            if (c == '\\' && i + 1 < line.Length) { cur.Append(line[++i]); inWord = true; continue; }
            if (char.IsWhiteSpace(c))
            {
                if (inWord) { tokens.Add(cur.ToString()); cur.Clear(); inWord = false; }
                continue;
            }
            cur.Append(c);
            inWord = true;
        }
        if (quote != '\0') throw new RuleParseException(null, "unterminated quote", -1);
        if (inWord) tokens.Add(cur.ToString());
        return tokens;
    }

    private static readonly HashSet<string> AddressOptions = new(StringComparer.Ordinal)
    {
        "-s", "--source", "--src", "-d", "--destination", "--dst", "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst",
    };

    /// <summary>
    /// Tells IPv4 from IPv6 by the content: the "Generated by ip6tables-save" header, addresses, ICMP protocol
    /// names and modules, reject types. 0 with a reason when there is no clue or the clues disagree.
    /// </summary>
    public static byte SniffFamily(string[] lines, string fileName, out string? why)
    {
        int v4Line = 0, v6Line = 0;
        for (int n = 0; n < lines.Length && (v4Line == 0 || v6Line == 0); n++)
        {
            string line = lines[n].Trim();
            if (line.StartsWith('#'))
            {
                if (line.Contains("ip6tables-save", StringComparison.Ordinal)) v6Line = v6Line == 0 ? n + 1 : v6Line;
                else if (line.Contains("iptables-save", StringComparison.Ordinal)) v4Line = v4Line == 0 ? n + 1 : v4Line;
                continue;
            }
            if (!line.StartsWith('-') && !line.StartsWith('[')) continue;
            List<string> t;
            try { t = Tokenize(line); } catch (RuleParseException) { continue; }
            for (int i = 0; i < t.Count; i++)
            {
                byte vote = 0;
                string next = i + 1 < t.Count ? t[i + 1] : "";
                if (AddressOptions.Contains(t[i]))
                {
                    foreach (string part in next.Split(','))
                        if (AddressSpec.TryParse(part, out var spec, out _)) vote = spec.IsV6 ? (byte)6 : (byte)4;
                }
                else if (t[i] is "-p" or "--protocol")
                    vote = next switch { "icmp" or "1" => 4, "ipv6-icmp" or "icmpv6" or "58" => 6, _ => 0 };
                else if (t[i] is "-m" or "--match")
                    vote = next switch { "icmp" => 4, "icmp6" or "icmpv6" => 6, _ => 0 };
                else if (t[i] == "--icmp-type") vote = 4;
                else if (t[i] == "--icmpv6-type") vote = 6;
                else if (t[i] == "--reject-with")
                    vote = next.StartsWith("icmp6-", StringComparison.Ordinal) ? (byte)6 : next.StartsWith("icmp-", StringComparison.Ordinal) ? (byte)4 : (byte)0;
                if (vote == 4 && v4Line == 0) v4Line = n + 1;
                if (vote == 6 && v6Line == 0) v6Line = n + 1;
            }
        }
        why = null;
        if (v4Line != 0 && v6Line != 0)
        {
            why = $"{fileName}: cannot tell whether the file is IPv4 or IPv6 (line {v4Line} looks IPv4, line {v6Line} IPv6); name the family";
            return 0;
        }
        if (v4Line == 0 && v6Line == 0)
        {
            why = $"{fileName}: cannot tell whether the file is IPv4 or IPv6 (no addresses or ICMP rules); name the family";
            return 0;
        }
        return v4Line != 0 ? (byte)4 : (byte)6;
    }
}
