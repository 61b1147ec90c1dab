using System.Text;
using BenchmarkDotNet.Attributes;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using Firewall.Core.Rules.IptablesSave;

namespace Firewall.Benchmarks;

/// <summary>
/// Rule evaluation cost per packet: linear chains of N rules (packet hits the last rule / no rule), a 100,000-prefix
/// address set, and established traffic under the classic host ruleset. Each call builds the ParsedPacket on the
/// stack (a ref struct cannot be a field), which is part of the measured time.
/// </summary>
[MemoryDiagnoser]
public class RulesBenchmarks
{
    [Params(10, 1000, 10000)]
    public int Rules;

    private RuleSet _linear = null!;
    private readonly RuleBenchPackets _pk = new();

    [GlobalSetup]
    public void Setup()
    {
        var sb = new StringBuilder("*filter\n:INPUT DROP [0:0]\n");
        for (int i = 0; i < Rules; i++) sb.Append("-A INPUT -p tcp -m tcp --dport ").Append(1 + i % 60000).Append(" -s 198.18.0.0/15 -j ACCEPT\n");
        sb.Append("COMMIT\n");
        _linear = RuleBenchPackets.Build(sb.ToString(), null);
    }

    [Benchmark(Description = "N rules, packet matches the last")]
    public Verdict LinearLastRule() => _pk.Run(_linear, _pk.Src, (ushort)(1 + (Rules - 1) % 60000), in _pk.New);

    [Benchmark(Description = "N rules, packet matches none (policy)")]
    public Verdict LinearNoMatch() => _pk.Run(_linear, _pk.Src, 65000, in _pk.New);
}

/// <summary>A 100,000-prefix address set and the classic host ruleset with ESTABLISHED traffic.</summary>
[MemoryDiagnoser]
public class RuleSetLookupBenchmarks
{
    private RuleSet _set = null!;
    private RuleSet _classic = null!;
    private IpAddr _inSet, _notInSet;
    private readonly RuleBenchPackets _pk = new();

    [GlobalSetup]
    public void Setup()
    {
        var rnd = new Random(1);
        var entries = new List<string>(100_000);
        for (int i = 0; i < 100_000; i++)
        {
            if (i % 4 == 0) entries.Add($"2001:db8:{rnd.Next(65536):x}:{rnd.Next(65536):x}::/64");
            else entries.Add($"{rnd.Next(1, 224)}.{rnd.Next(256)}.{rnd.Next(256)}.0/24");
        }
        entries.Add("198.18.77.0/24");
        _set = RuleBenchPackets.Build("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m set --match-set big src -j DROP\nCOMMIT\n", b =>
        {
            var errors = new List<string>();
            b.AddSet(AddressSet.Create("big", entries, errors, "big"));
            if (errors.Count > 0) throw new InvalidOperationException(errors[0]);
        });
        _classic = RuleBenchPackets.Build("""
            *filter
            :INPUT DROP [0:0]
            -A INPUT -i lo -j ACCEPT
            -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -A INPUT -m conntrack --ctstate INVALID -j DROP
            -A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP
            -A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
            -A INPUT -p icmp -m icmp --icmp-type 8 -m conntrack --ctstate NEW -j ACCEPT
            COMMIT
            """, null);
        _inSet = RuleBenchPackets.Parse("198.18.77.5");
        _notInSet = RuleBenchPackets.Parse("198.18.78.5");
    }

    [Benchmark(Description = "100k-prefix set, address in set")]
    public Verdict SetHit() => _pk.Run(_set, _inSet, 22, in _pk.New);

    [Benchmark(Description = "100k-prefix set, address not in set")]
    public Verdict SetMiss() => _pk.Run(_set, _notInSet, 22, in _pk.New);

    [Benchmark(Description = "classic ruleset, ESTABLISHED")]
    public Verdict ClassicEstablished() => _pk.Run(_classic, _pk.Src, 22, in _pk.Established);
}

/// <summary>Shared packet and rule-set construction for the rule benchmarks.</summary>
internal sealed class RuleBenchPackets
{
    public readonly IpAddr Src = Parse("198.18.0.9");
    public readonly IpAddr Dst = Parse("198.18.1.1");
    public readonly RuleConnInfo New = new() { State = CtState.New, HasEntry = true };
    public readonly RuleConnInfo Established = new() { State = CtState.Established, HasEntry = true, Status = CtStatus.Confirmed | CtStatus.SeenReply };
    private readonly PacketMeta _meta = new("eth0", null, false);

    public static IpAddr Parse(string s) => IpAddr.TryParse(s, out var a, out _) ? a : default;

    public static RuleSet Build(string text, Action<RuleSetBuilder>? setup)
    {
        var b = new RuleSetBuilder();
        setup?.Invoke(b);
        IptablesSaveParser.Load(text, "bench", 4, b);
        return b.Build() ?? throw new InvalidOperationException(string.Join("; ", b.Errors));
    }

    public Verdict Run(RuleSet rs, IpAddr src, ushort dport, in RuleConnInfo ct)
    {
        var p = new ParsedPacket
        {
            IpVersion = 4, Protocol = IpProto.Tcp, Src = src, Dst = Dst, SrcPort = 40000, DstPort = dport,
            TcpFlagBits = TcpFlags.Syn, L3Length = 60,
        };
        return rs.Evaluate(FilterHook.Input, ref p, in ct, in _meta, 0, out _);
    }
}
