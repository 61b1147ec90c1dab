using Firewall.Core.Packets;
using Firewall.Core.Rules;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>-m limit (token bucket, injected time) and -m set (address sets).</summary>
public class LimitAndSetTests
{
    private const long Second = 1_000_000_000;
    private static ParsedPacket Ping => Icmp("198.18.0.1", "198.18.1.1", 8);

    [Fact]
    public void Limit_AllowsBurstThenOnePerInterval()
    {
        var rs = Input("DROP", "-m limit --limit 2/sec --limit-burst 3 -j ACCEPT");
        long t = 5 * Second;
        for (int i = 0; i < 3; i++) Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: t));
        Assert.Equal(Verdict.Drop, Eval(rs, Ping, now: t));
        Assert.Equal(Verdict.Drop, Eval(rs, Ping, now: t + Second / 2 - 1));
        Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: t + Second / 2));
        Assert.Equal(Verdict.Drop, Eval(rs, Ping, now: t + Second / 2));
    }

    [Fact]
    public void Limit_RefillsUpToBurstOnly()
    {
        var rs = Input("DROP", "-m limit --limit 1/minute --limit-burst 2 -j ACCEPT");
        Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: 0));
        long later = 3600 * Second;
        Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: later));
        Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: later));
        Assert.Equal(Verdict.Drop, Eval(rs, Ping, now: later));
    }

    [Fact]
    public void Limit_DefaultsAreThreePerHourBurstFive()
    {
        var rs = Input("DROP", "-m limit -j ACCEPT");
        for (int i = 0; i < 5; i++) Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: 0));
        Assert.Equal(Verdict.Drop, Eval(rs, Ping, now: 0));
        Assert.Equal(Verdict.Accept, Eval(rs, Ping, now: 1200 * Second));
        Assert.Equal("-A INPUT -m limit --limit 3/hour -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void Limit_IsSavedWithUnitAndBurst()
    {
        var rs = Input("DROP", "-m limit --limit 10/s --limit-burst 20 -j ACCEPT");
        Assert.Equal("-A INPUT -m limit --limit 10/sec --limit-burst 20 -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void TokenBucket_ConcurrentTakers_NeverExceedBurst()
    {
        var b = new TokenBucket(Second, 100);
        int taken = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 1000; i++) if (b.TryTake(0)) Interlocked.Increment(ref taken);
        });
        Assert.Equal(100, taken);
    }

    private static Action<RuleSetBuilder> Sets(params string[] entries) => b =>
    {
        var errors = new List<string>();
        b.AddSet(AddressSet.Create("blocklist", entries, errors, "Sets:blocklist"));
        Assert.Empty(errors);
    };

    [Fact]
    public void Set_Src_MatchesSourceInSet()
    {
        var rs = Load("*filter\n-A INPUT -m set --match-set blocklist src -j DROP\nCOMMIT\n", setup: Sets("198.18.4.0/24", "198.18.9.9"));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.4.200", 1, "198.18.1.1", 22)));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.9.9", 1, "198.18.1.1", 22)));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.9.10", 1, "198.18.1.1", 22)));
    }

    [Fact]
    public void Set_Dst_MatchesDestinationInSet()
    {
        var rs = Load("*filter\n-A OUTPUT -m set --match-set blocklist dst -j DROP\nCOMMIT\n", setup: Sets("198.18.4.0/24"));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.0.1", 1, "198.18.4.1", 22), hook: FilterHook.Output));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.4.1", 1, "198.18.0.1", 22), hook: FilterHook.Output));
    }

    [Fact]
    public void Set_Inverted_MatchesAddressesOutside()
    {
        var rs = Load("*filter\n-A INPUT -m set ! --match-set blocklist src -j DROP\nCOMMIT\n", setup: Sets("198.18.4.0/24"));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.4.1", 1, "198.18.1.1", 22)));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.5.1", 1, "198.18.1.1", 22)));
        Assert.Equal("-A INPUT -m set ! --match-set blocklist src -j DROP", rs.Rules[0].ToString());
    }

    [Fact]
    public void Set_V6Entries_MatchV6Packets()
    {
        var rs = Load("*filter\n-A INPUT -m set --match-set blocklist src -j DROP\nCOMMIT\n", 6, setup: Sets("2001:db8:bad::/48", "198.18.4.0/24"));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("2001:db8:bad:1::1", 1, "2001:db8::1", 22)));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("2001:db8:bae::1", 1, "2001:db8::1", 22)));
    }

    [Fact]
    public void Set_Unknown_IsAnError()
    {
        var errors = Errors("*filter\n-A INPUT -m set --match-set nosuch src -j DROP\nCOMMIT\n");
        Assert.Equal("rules.v4:2: --match-set: set \"nosuch\" does not exist (define it under Firewall:Rules:Sets)", Assert.Single(errors));
    }

    [Fact]
    public void AddressSet_RangesAndOverlaps_AreMerged()
    {
        var errors = new List<string>();
        var s = AddressSet.Create("s", ["198.18.0.0/24", "198.18.0.128/25", "198.18.1.0/24", "198.18.3.1-198.18.3.9"], errors, "k");
        Assert.Empty(errors);
        Assert.Equal(2, s.V4RangeCount);
        Assert.True(s.Contains(Ip("198.18.1.255"), false));
        Assert.True(s.Contains(Ip("198.18.3.9"), false));
        Assert.False(s.Contains(Ip("198.18.3.10"), false));
        Assert.False(s.Contains(Ip("198.18.2.0"), false));
    }

    [Fact]
    public void AddressSet_BadEntry_NamesItsIndex()
    {
        var errors = new List<string>();
        AddressSet.Create("s", ["198.18.0.0/24", "nonsense"], errors, "Firewall:Rules:Sets:s");
        Assert.Equal("Firewall:Rules:Sets:s:1: \"nonsense\" is not an IP address or network (host names are not resolved)", Assert.Single(errors));
    }

    [Fact]
    public void AddressSet_100kRandomPrefixes_AgreesWithNaiveCheck()
    {
        var rnd = new Random(12345);
        var entries = new List<string>(100_000);
        var v4 = new List<(uint Net, int Len)>();
        var v6 = new List<(UInt128 Net, int Len)>();
        for (int i = 0; i < 100_000; i++)
        {
            if (i % 4 == 3)
            {
                int len = rnd.Next(16, 129);
                UInt128 a = new((ulong)rnd.NextInt64() | 0x2001_0db8_0000_0000UL, (ulong)rnd.NextInt64());
                UInt128 mask = len == 0 ? 0 : UInt128.MaxValue << (128 - len);
                a &= mask;
                v6.Add((a, len));
                var ip = new IpAddr((ulong)(a >> 64), (ulong)a);
                entries.Add($"{ip.ToString(true)}/{len}");
            }
            else
            {
                int len = rnd.Next(8, 33);
                uint mask = uint.MaxValue << (32 - len);
                uint a = (uint)rnd.Next() & mask;
                v4.Add((a, len));
                entries.Add($"{new IpAddr(0, a).ToString(false)}/{len}");
            }
        }
        var errors = new List<string>();
        var set = AddressSet.Create("big", entries, errors, "k");
        Assert.Empty(errors);
        for (int i = 0; i < 3000; i++)
        {
            uint x = i % 2 == 0 ? (uint)rnd.Next() : v4[rnd.Next(v4.Count)].Net + (uint)rnd.Next(0, 3);
            bool naive = false;
            foreach (var (net, len) in v4) if ((x & (uint.MaxValue << (32 - len))) == net) { naive = true; break; }
            Assert.Equal(naive, set.Contains(new IpAddr(0, x), false));
        }
        for (int i = 0; i < 1000; i++)
        {
            UInt128 x = i % 2 == 0 ? v6[rnd.Next(v6.Count)].Net + 1 : new UInt128((ulong)rnd.NextInt64() | 0x2001_0db8_0000_0000UL, (ulong)rnd.NextInt64());
            bool naive = false;
            foreach (var (net, len) in v6) if ((x & (UInt128.MaxValue << (128 - len))) == net) { naive = true; break; }
            Assert.Equal(naive, set.Contains(new IpAddr((ulong)(x >> 64), (ulong)x), true));
        }
    }
}
