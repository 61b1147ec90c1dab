using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>Targets, chain traversal (jump, goto, RETURN, policies) and counters.</summary>
public class TargetTests
{
    private static ParsedPacket Ssh => Tcp("198.18.0.1", 40000, "198.18.1.1", 22);

    [Fact]
    public void Accept_StopsAndAccepts()
    {
        var rs = Input("DROP", "-p tcp --dport 22 -j ACCEPT", "-j DROP");
        Assert.Equal(Verdict.Accept, Eval(rs, Ssh, out var m));
        Assert.Equal(0, m.RuleId);
    }

    [Fact]
    public void Drop_StopsAndDrops()
    {
        var rs = Input("ACCEPT", "-p tcp --dport 22 -j DROP", "-j ACCEPT");
        Assert.Equal(Verdict.Drop, Eval(rs, Ssh, out var m));
        Assert.Equal(0, m.RuleId);
    }

    [Fact]
    public void Reject_DefaultsToPortUnreachableV4()
    {
        var rs = Input("ACCEPT", "-j REJECT");
        Assert.Equal(Verdict.Reject, Eval(rs, Ssh, out var m));
        Assert.Equal(RejectKind.IcmpPortUnreachable, m.Reject);
        Assert.Equal("-A INPUT -j REJECT --reject-with icmp-port-unreachable", rs.Rules[0].ToString());
    }

    [Fact]
    public void Reject_DefaultsToPortUnreachableV6()
    {
        var rs = Input6("ACCEPT", "-j REJECT");
        Assert.Equal(Verdict.Reject, Eval(rs, Tcp("2001:db8::1", 1, "2001:db8::2", 22), out var m));
        Assert.Equal(RejectKind.Icmp6PortUnreachable, m.Reject);
    }

    [Theory]
    [InlineData("icmp-host-prohibited", RejectKind.IcmpHostProhibited)]
    [InlineData("icmp-net-unreachable", RejectKind.IcmpNetUnreachable)]
    [InlineData("icmp-admin-prohibited", RejectKind.IcmpAdminProhibited)]
    [InlineData("host-unreach", RejectKind.IcmpHostUnreachable)]
    public void Reject_With_ReturnsThatKind(string with, RejectKind kind)
    {
        var rs = Input("ACCEPT", "-j REJECT --reject-with " + with);
        Eval(rs, Ssh, out var m);
        Assert.Equal(kind, m.Reject);
    }

    [Fact]
    public void Reject_Icmp6Kind_InV6File()
    {
        var rs = Input6("ACCEPT", "-j REJECT --reject-with icmp6-adm-prohibited");
        Eval(rs, Tcp("2001:db8::1", 1, "2001:db8::2", 22), out var m);
        Assert.Equal(RejectKind.Icmp6AdmProhibited, m.Reject);
    }

    [Fact]
    public void Reject_TcpReset_WithTcp()
    {
        var rs = Input("ACCEPT", "-p tcp -j REJECT --reject-with tcp-reset");
        Eval(rs, Ssh, out var m);
        Assert.Equal(RejectKind.TcpReset, m.Reject);
    }

    [Fact]
    public void Reject_TcpResetWithoutTcp_IsAnError()
    {
        var errors = Errors("*filter\n-A INPUT -p udp -j REJECT --reject-with tcp-reset\nCOMMIT\n");
        Assert.Equal("rules.v4:2: --reject-with: tcp-reset needs -p tcp (not inverted)", Assert.Single(errors));
    }

    [Fact]
    public void Log_IsNotTerminal_AndWritesARecord()
    {
        var ring = new RuleLogRing(16, ratePerSecond: 0);
        var rs = Load("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -j LOG --log-prefix \"in: \" --log-level info\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n", ring: ring);
        Assert.Equal(Verdict.Accept, Eval(rs, Ssh, ct: Conn(CtState.New), now: 123));
        Assert.True(ring.TryRead(out var rec));
        Assert.Equal("in: ", rec.Prefix);
        Assert.Equal(6, rec.Level);
        Assert.Equal(0, rec.RuleId);
        Assert.Equal("INPUT", rec.Chain);
        Assert.Equal((ushort)22, rec.DstPort);
        Assert.Equal(Ip("198.18.0.1"), rec.Src);
        Assert.Equal(CtState.New, rec.State);
        Assert.Equal(123, rec.TimeNs);
        Assert.False(ring.TryRead(out _));
    }

    [Fact]
    public void Log_IsSavedWithQuotedPrefixAndLevel()
    {
        var rs = Input("DROP", "-j LOG --log-prefix \"dropped: \" --log-level 6 --log-uid");
        Assert.Equal("-A INPUT -j LOG --log-prefix \"dropped: \" --log-level 6 --log-uid", rs.Rules[0].ToString());
    }

    [Fact]
    public void LogRing_RateLimit_SuppressesBeyondBurst()
    {
        var ring = new RuleLogRing(64, ratePerSecond: 1, burst: 2);
        var rs = Load("*filter\n-A INPUT -j LOG\nCOMMIT\n", ring: ring);
        for (int i = 0; i < 5; i++) Eval(rs, Ssh, now: 1000);
        Assert.Equal(3, ring.DroppedRate);
        Eval(rs, Ssh, now: 1000 + 1_000_000_000);
        int n = 0;
        while (ring.TryRead(out _)) n++;
        Assert.Equal(3, n);
    }

    [Fact]
    public void LogRing_Full_CountsDrops()
    {
        var ring = new RuleLogRing(2, ratePerSecond: 0);
        var rs = Load("*filter\n-A INPUT -j LOG\nCOMMIT\n", ring: ring);
        for (int i = 0; i < 5; i++) Eval(rs, Ssh);
        Assert.Equal(3, ring.DroppedFull);
    }

    [Fact]
    public void NoTarget_OnlyCounts()
    {
        var rs = Input("DROP", "-p tcp", "-p tcp -j ACCEPT");
        Assert.Equal(Verdict.Accept, Eval(rs, Ssh, out var m));
        Assert.Equal(1, m.RuleId);
        Assert.Equal(1, rs.RuleCounters(0).Packets);
    }

    private const string Chains = """
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        :SSH - [0:0]
        :WEB - [0:0]
        :DEEP - [0:0]
        -A INPUT -p tcp --dport 22 -j SSH
        -A INPUT -p tcp --dport 80 -g WEB
        -A INPUT -p tcp --dport 81 -j DEEP
        -A INPUT -p tcp -j ACCEPT
        -A SSH -s 198.18.0.0/24 -j ACCEPT
        -A SSH -s 198.18.5.0/24 -j RETURN
        -A SSH -j DROP
        -A WEB -s 198.18.9.0/24 -j RETURN
        -A WEB -s 198.18.8.0/24 -j ACCEPT
        -A DEEP -g WEB
        COMMIT
        """;

    [Fact]
    public void Jump_RunsUserChain()
    {
        var rs = Load(Chains);
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.0.9", 1, "198.18.1.1", 22), out var m));
        Assert.Equal("SSH", rs.Chains[m.ChainIndex].Name);
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.7.9", 1, "198.18.1.1", 22)));
    }

    [Fact]
    public void Return_ContinuesAfterTheJump()
    {
        var rs = Load(Chains);
        // SSH returns for 198.18.5.0/24; INPUT's next matching rule is "-p tcp -j ACCEPT".
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.5.9", 1, "198.18.1.1", 22), out var m));
        Assert.Equal("INPUT", rs.Chains[m.ChainIndex].Name);
    }

    [Fact]
    public void Goto_ImplicitReturn_GoesToPolicyWhenCalledFromBuiltin()
    {
        var rs = Load(Chains);
        // WEB was entered with -g from INPUT: falling off its end uses INPUT's policy, not INPUT's next rule.
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.7.9", 1, "198.18.1.1", 80), out var m));
        Assert.True(m.IsPolicy);
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.8.9", 1, "198.18.1.1", 80)));
    }

    [Fact]
    public void Goto_Return_GoesBackToTheCallerOfTheJump()
    {
        var rs = Load(Chains);
        // INPUT -j DEEP, DEEP -g WEB, WEB RETURN → back in INPUT after the jump → "-p tcp -j ACCEPT".
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.9.9", 1, "198.18.1.1", 81), out var m));
        Assert.Equal("INPUT", rs.Chains[m.ChainIndex].Name);
        Assert.Equal(1, rs.MaxJumpDepth);
    }

    [Fact]
    public void ImplicitReturn_AtEndOfJumpedChain_ContinuesInCaller()
    {
        var rs = Load("*filter\n:INPUT DROP [0:0]\n:EMPTY - [0:0]\n-A INPUT -j EMPTY\n-A INPUT -j ACCEPT\nCOMMIT\n");
        Assert.Equal(Verdict.Accept, Eval(rs, Ssh));
    }

    [Fact]
    public void Return_InBuiltinChain_UsesPolicy()
    {
        var rs = Input("DROP", "-j RETURN", "-j ACCEPT");
        Assert.Equal(Verdict.Drop, Eval(rs, Ssh, out var m));
        Assert.True(m.IsPolicy);
    }

    [Fact]
    public void Loop_IsACompileError()
    {
        var errors = Errors("*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -g A\nCOMMIT\n");
        Assert.Equal("rules.v4:6: chain loop A -> B -> A", Assert.Single(errors));
    }

    [Fact]
    public void SelfJump_IsACompileError()
    {
        var errors = Errors("*filter\n:A - [0:0]\n-A A -j A\nCOMMIT\n");
        Assert.Equal("rules.v4:3: chain loop A -> A", Assert.Single(errors));
    }

    [Fact]
    public void Policy_DecidesWhenNoRuleMatches()
    {
        Assert.Equal(Verdict.Drop, Eval(Input("DROP"), Ssh));
        Assert.Equal(Verdict.Accept, Eval(Input("ACCEPT"), Ssh));
    }

    [Fact]
    public void Policy_IsPerFamily()
    {
        var b = new RuleSetBuilder();
        Firewall.Core.Rules.IptablesSave.IptablesSaveParser.Load("*filter\n:INPUT DROP [0:0]\nCOMMIT\n", "rules.v4", 4, b);
        Firewall.Core.Rules.IptablesSave.IptablesSaveParser.Load("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "rules.v6", 6, b);
        var rs = b.Build()!;
        Assert.Equal(Verdict.Drop, Eval(rs, Ssh));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("2001:db8::1", 1, "2001:db8::2", 22)));
    }

    [Fact]
    public void Counters_CountPacketsAndL3Bytes()
    {
        var rs = Input("DROP", "-p tcp --dport 22 -j ACCEPT");
        Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22, length: 100));
        Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22, length: 40));
        Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 23, length: 60));
        Assert.Equal((2L, 140L), rs.RuleCounters(0));
        Assert.Equal((1L, 60L), rs.PolicyCounters(rs.FilterChain(FilterHook.Input), 4));
        Assert.Equal((0L, 0L), rs.PolicyCounters(rs.FilterChain(FilterHook.Input), 6));
    }

    [Fact]
    public void Counters_AreExactUnderConcurrency()
    {
        var rs = Input("DROP", "-j ACCEPT");
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 10000; i++) Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22, length: 10));
        });
        Assert.Equal((40000L, 400000L), rs.RuleCounters(0));
    }

    [Fact]
    public void Counters_JumpRuleCountsToo()
    {
        var rs = Load(Chains);
        Eval(rs, Tcp("198.18.0.9", 1, "198.18.1.1", 22));
        Assert.Equal(1, rs.RuleCounters(0).Packets); // -A INPUT ... -j SSH
        Assert.Equal(1, rs.RuleCounters(4).Packets); // -A SSH -s 198.18.0.0/24 -j ACCEPT
    }

    [Fact]
    public void ClassicRuleset_EstablishedCostsTwoRuleChecks()
    {
        var rs = Input("DROP",
            "-i lo -j ACCEPT",
            "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "-m conntrack --ctstate INVALID -j DROP",
            "-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP",
            "-p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT");
        Assert.Equal(Verdict.Accept, Eval(rs, Ssh, out var m, ct: Established));
        Assert.Equal(2, m.RulesEvaluated);
        Assert.Equal(Verdict.Drop, Eval(rs, Ssh, ct: Conn(CtState.New)));   // NEW but not SYN
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22, TcpFlags.Syn), ct: Conn(CtState.New)));
        Assert.Equal(Verdict.Drop, Eval(rs, Ssh, ct: Conn(CtState.Invalid)));
    }

    [Fact]
    public void Holder_SwapInstallsNewSetAndReturnsOld()
    {
        var a = Input("DROP");
        var b = Input("ACCEPT");
        var h = new RuleSetHolder(a);
        Assert.Same(a, h.Swap(b));
        Assert.Same(b, h.Current);
    }
}
