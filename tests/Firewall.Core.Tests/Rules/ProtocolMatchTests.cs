using Firewall.Core.Packets;
using Firewall.Core.Rules;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>-m tcp / udp / multiport / icmp / icmp6.</summary>
public class ProtocolMatchTests
{
    [Fact]
    public void Dport_Single_MatchesThatPortOnly()
    {
        Assert.True(Matches("-p tcp --dport 22", Tcp("198.18.0.1", 40000, "198.18.1.1", 22)));
        Assert.False(Matches("-p tcp --dport 22", Tcp("198.18.0.1", 40000, "198.18.1.1", 23)));
    }

    [Fact]
    public void Dport_Range_IsInclusive()
    {
        Assert.True(Matches("-p tcp --dport 1000:2000", Tcp("198.18.0.1", 1, "198.18.1.1", 1000)));
        Assert.True(Matches("-p tcp --dport 1000:2000", Tcp("198.18.0.1", 1, "198.18.1.1", 2000)));
        Assert.False(Matches("-p tcp --dport 1000:2000", Tcp("198.18.0.1", 1, "198.18.1.1", 2001)));
    }

    [Fact]
    public void Dport_OpenRanges_ReachZeroAnd65535()
    {
        Assert.True(Matches("-p tcp --dport :1023", Tcp("198.18.0.1", 1, "198.18.1.1", 0)));
        Assert.True(Matches("-p tcp --dport 1024:", Tcp("198.18.0.1", 1, "198.18.1.1", 65535)));
        Assert.False(Matches("-p tcp --dport 1024:", Tcp("198.18.0.1", 1, "198.18.1.1", 1023)));
    }

    [Fact]
    public void Dport_Inverted_MatchesOtherPorts()
    {
        Assert.False(Matches("-p tcp ! --dport 22", Tcp("198.18.0.1", 1, "198.18.1.1", 22)));
        Assert.True(Matches("-p tcp ! --dport 22", Tcp("198.18.0.1", 1, "198.18.1.1", 80)));
    }

    [Fact]
    public void Dport_ServiceName_IsThePort()
    {
        Assert.True(Matches("-p tcp --dport ssh", Tcp("198.18.0.1", 1, "198.18.1.1", 22)));
    }

    [Fact]
    public void Sport_Single_MatchesThatPortOnly()
    {
        Assert.True(Matches("-p udp --sport 53", Udp("198.18.0.1", 53, "198.18.1.1", 5000)));
        Assert.False(Matches("-p udp --sport 53", Udp("198.18.0.1", 54, "198.18.1.1", 5000)));
    }

    [Fact]
    public void Sport_Inverted_MatchesOtherPorts()
    {
        Assert.False(Matches("-p udp -m udp ! --sport 53", Udp("198.18.0.1", 53, "198.18.1.1", 5000)));
        Assert.True(Matches("-p udp -m udp ! --sport 53", Udp("198.18.0.1", 54, "198.18.1.1", 5000)));
    }

    [Fact]
    public void UdpDport_DoesNotMatchTcp()
    {
        Assert.True(Matches("-p udp --dport 53", Udp("198.18.0.1", 1, "198.18.1.1", 53)));
        Assert.False(Matches("-p udp --dport 53", Tcp("198.18.0.1", 1, "198.18.1.1", 53)));
    }

    [Fact]
    public void ImplicitTcpMatch_IsSavedExplicitly()
    {
        var rs = Input("DROP", "-p tcp --dport 22 -j ACCEPT");
        Assert.Equal("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void TcpMatch_LaterFragment_NeverMatches()
    {
        var p = Tcp("198.18.0.1", 1, "198.18.1.1", 22);
        p.FragmentOffset = 8;
        Assert.False(Matches("-p tcp ! --dport 23", p));
    }

    [Fact]
    public void TcpFlags_MaskAndComparison()
    {
        const string rule = "-p tcp --tcp-flags SYN,ACK SYN,ACK";
        Assert.True(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Syn | TcpFlags.Ack)));
        Assert.False(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Syn)));
    }

    [Fact]
    public void TcpFlags_Inverted()
    {
        const string rule = "-p tcp ! --tcp-flags FIN,SYN,RST,ACK SYN";
        Assert.False(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Syn)));
        Assert.True(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Ack)));
    }

    [Fact]
    public void Syn_MatchesSynWithoutAckRstFin()
    {
        Assert.True(Matches("-p tcp --syn", Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Syn)));
        Assert.True(Matches("-p tcp --syn", Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Syn | TcpFlags.Psh)));
        Assert.False(Matches("-p tcp --syn", Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Syn | TcpFlags.Ack)));
    }

    [Fact]
    public void Syn_Inverted_IsSavedAsTcpFlags()
    {
        var rs = Input("DROP", "-p tcp ! --syn -m conntrack --ctstate NEW -j DROP");
        Assert.Equal("-A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP", rs.Rules[0].ToString());
        Assert.True(Matches("-p tcp ! --syn", Tcp("198.18.0.1", 1, "198.18.1.1", 2, TcpFlags.Ack)));
    }

    [Fact]
    public void Multiport_Dports_ListAndRanges()
    {
        const string rule = "-p tcp -m multiport --dports 22,80,8000:8080";
        Assert.True(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 80)));
        Assert.True(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 8042)));
        Assert.False(Matches(rule, Tcp("198.18.0.1", 1, "198.18.1.1", 443)));
    }

    [Fact]
    public void Multiport_Sports_ChecksSourcePort()
    {
        Assert.True(Matches("-p udp -m multiport --sports 53,123", Udp("198.18.0.1", 123, "198.18.1.1", 9)));
        Assert.False(Matches("-p udp -m multiport --sports 53,123", Udp("198.18.0.1", 9, "198.18.1.1", 123)));
    }

    [Fact]
    public void Multiport_Ports_ChecksEitherPort()
    {
        Assert.True(Matches("-p tcp -m multiport --ports 25", Tcp("198.18.0.1", 25, "198.18.1.1", 9)));
        Assert.True(Matches("-p tcp -m multiport --ports 25", Tcp("198.18.0.1", 9, "198.18.1.1", 25)));
        Assert.False(Matches("-p tcp -m multiport --ports 25", Tcp("198.18.0.1", 9, "198.18.1.1", 26)));
    }

    [Fact]
    public void Multiport_Inverted_MatchesPortsOutsideTheList()
    {
        Assert.False(Matches("-p tcp -m multiport ! --dports 22,80", Tcp("198.18.0.1", 1, "198.18.1.1", 80)));
        Assert.True(Matches("-p tcp -m multiport ! --dports 22,80", Tcp("198.18.0.1", 1, "198.18.1.1", 81)));
    }

    [Fact]
    public void IcmpType_Name_MatchesThatType()
    {
        Assert.True(Matches("-p icmp --icmp-type echo-request", Icmp("198.18.0.1", "198.18.1.1", 8)));
        Assert.False(Matches("-p icmp --icmp-type echo-request", Icmp("198.18.0.1", "198.18.1.1", 0)));
    }

    [Fact]
    public void IcmpType_Number_IsSavedAsNumber()
    {
        var rs = Input("DROP", "-p icmp --icmp-type echo-request -j ACCEPT");
        Assert.Equal("-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void IcmpType_WithCode_MatchesThatCodeOnly()
    {
        Assert.True(Matches("-p icmp --icmp-type fragmentation-needed", Icmp("198.18.0.1", "198.18.1.1", 3, 4)));
        Assert.False(Matches("-p icmp --icmp-type 3/4", Icmp("198.18.0.1", "198.18.1.1", 3, 3)));
    }

    [Fact]
    public void IcmpType_Any_MatchesEveryType()
    {
        Assert.True(Matches("-p icmp --icmp-type any", Icmp("198.18.0.1", "198.18.1.1", 13)));
    }

    [Fact]
    public void IcmpType_Inverted_MatchesOtherTypes()
    {
        Assert.False(Matches("-p icmp ! --icmp-type 8", Icmp("198.18.0.1", "198.18.1.1", 8)));
        Assert.True(Matches("-p icmp ! --icmp-type 8", Icmp("198.18.0.1", "198.18.1.1", 0)));
    }

    [Fact]
    public void Icmpv6Type_Name_MatchesThatType()
    {
        Assert.True(Matches("-p ipv6-icmp --icmpv6-type neighbour-solicitation", Icmp("2001:db8::1", "2001:db8::2", 135)));
        Assert.False(Matches("-p ipv6-icmp --icmpv6-type neighbour-solicitation", Icmp("2001:db8::1", "2001:db8::2", 136)));
    }

    [Fact]
    public void Icmpv6Type_Inverted_MatchesOtherTypes()
    {
        Assert.False(Matches("-p ipv6-icmp -m icmp6 ! --icmpv6-type 128", Icmp("2001:db8::1", "2001:db8::2", 128)));
        Assert.True(Matches("-p ipv6-icmp -m icmp6 ! --icmpv6-type 128", Icmp("2001:db8::1", "2001:db8::2", 129)));
    }

    [Fact]
    public void Icmpv6Type_IsSavedWithIcmp6Module()
    {
        var rs = Input6("DROP", "-p ipv6-icmp --icmpv6-type echo-request -j ACCEPT");
        Assert.Equal("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void Comment_AlwaysMatches_AndIsSavedQuoted()
    {
        var rs = Input("DROP", "-p tcp --dport 22 -m comment --comment \"ssh from anywhere\" -j ACCEPT");
        Assert.Equal("-A INPUT -p tcp -m tcp --dport 22 -m comment --comment \"ssh from anywhere\" -j ACCEPT", rs.Rules[0].ToString());
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22)));
    }
}
