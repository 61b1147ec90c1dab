using System.Globalization;
using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary>
/// <c>-m limit --limit N/UNIT --limit-burst B</c> (defaults 3/hour, burst 5): a token bucket that starts full.
/// Lock-free (<see cref="TokenBucket"/>), time from the evaluator's <c>nowNs</c>.
/// </summary>
public sealed class LimitMatch : RuleMatch
{
    private const int MaxRatePerSecond = 10000;
    private int _count = 3;
    private string _unit = "hour";
    private long _unitNs = 3600L * 1_000_000_000;
    private int _burst = 5;
    private TokenBucket? _bucket;

    public override string Module => "limit";
    public int Count => _count;
    public string Unit => _unit;
    public int Burst => _burst;

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        switch (option)
        {
            case "--limit":
            {
                NoInvert(invert, args);
                string v = args.Value();
                if (!TryParseRate(v, out _count, out _unit, out _unitNs)) throw args.ValueError($"bad rate \"{v}\" (N/sec, N/minute, N/hour or N/day)");
                if ((double)_count * 1_000_000_000 / _unitNs > MaxRatePerSecond) throw args.ValueError($"rate too fast \"{v}\" (at most {MaxRatePerSecond}/sec)");
                return true;
            }
            case "--limit-burst":
            {
                NoInvert(invert, args);
                string v = args.Value();
                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out _burst) || _burst < 1 || _burst > 10000)
                    throw args.ValueError($"bad --limit-burst \"{v}\" (1 to 10000)");
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses <c>N/UNIT</c>; UNIT is any prefix of second, minute, hour, day (as iptables accepts).</summary>
    public static bool TryParseRate(string s, out int count, out string unit, out long unitNs)
    {
        count = 0; unit = ""; unitNs = 0;
        int slash = s.IndexOf('/');
        string n = slash < 0 ? s : s[..slash];
        string u = slash < 0 ? "second" : s[(slash + 1)..].ToLowerInvariant();
        if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || u.Length == 0) return false;
        if ("second".StartsWith(u, StringComparison.Ordinal)) (unit, unitNs) = ("sec", 1_000_000_000L);
        else if ("minute".StartsWith(u, StringComparison.Ordinal)) (unit, unitNs) = ("minute", 60_000_000_000L);
        else if ("hour".StartsWith(u, StringComparison.Ordinal)) (unit, unitNs) = ("hour", 3_600_000_000_000L);
        else if ("day".StartsWith(u, StringComparison.Ordinal)) (unit, unitNs) = ("day", 86_400_000_000_000L);
        else return false;
        return true;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex) =>
        _bucket = new TokenBucket(_unitNs / _count, _burst);

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs) =>
        _bucket!.TryTake(nowNs);

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        sb.Append(" --limit ").Append(_count).Append('/').Append(_unit);
        if (_burst != 5) sb.Append(" --limit-burst ").Append(_burst);
    }

    internal override void AppendListing(StringBuilder sb, Rule rule) =>
        sb.Append(" limit: avg ").Append(_count).Append('/').Append(_unit).Append(" burst ").Append(_burst);
}
