using Firewall.Core.Packets;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>The IP-header part of a rule: -p, -s, -d, -i, -o, -f and their inversions.</summary>
public class HeaderMatchTests
{
    [Fact]
    public void Protocol_ByName_MatchesOnlyThatProtocol()
    {
        Assert.True(Matches("-p udp", Udp("198.18.0.1", 1000, "198.18.1.1", 53)));
        Assert.False(Matches("-p udp", Tcp("198.18.0.1", 1000, "198.18.1.1", 53)));
    }

    [Fact]
    public void Protocol_ByNumber_MatchesOnlyThatProtocol()
    {
        Assert.True(Matches("-p 47", Other("198.18.0.1", "198.18.1.1", IpProto.Gre)));
        Assert.False(Matches("-p 47", Other("198.18.0.1", "198.18.1.1", IpProto.Esp)));
    }

    [Fact]
    public void Protocol_Inverted_MatchesEveryOtherProtocol()
    {
        Assert.False(Matches("! -p tcp", Tcp("198.18.0.1", 1000, "198.18.1.1", 22)));
        Assert.True(Matches("! -p tcp", Udp("198.18.0.1", 1000, "198.18.1.1", 22)));
    }

    [Fact]
    public void Protocol_All_MatchesEveryProtocol()
    {
        Assert.True(Matches("-p all", Other("198.18.0.1", "198.18.1.1", IpProto.Sctp)));
        Assert.True(Matches("-p all", Icmp("198.18.0.1", "198.18.1.1", 8)));
    }

    [Fact]
    public void Protocol_Icmpv6Names_AreOneProtocol()
    {
        Assert.True(Matches("-p ipv6-icmp", Icmp("2001:db8::1", "2001:db8::2", 128)));
        Assert.True(Matches("-p icmpv6", Icmp("2001:db8::1", "2001:db8::2", 128)));
    }

    [Fact]
    public void Source_Cidr_MatchesAddressesInsideOnly()
    {
        Assert.True(Matches("-s 198.18.0.0/24", Tcp("198.18.0.77", 1, "198.18.1.1", 2)));
        Assert.False(Matches("-s 198.18.0.0/24", Tcp("198.18.1.77", 1, "198.18.1.1", 2)));
    }

    [Fact]
    public void Source_PlainAddress_MatchesThatHostOnly()
    {
        Assert.True(Matches("-s 198.18.0.5", Tcp("198.18.0.5", 1, "198.18.1.1", 2)));
        Assert.False(Matches("-s 198.18.0.5", Tcp("198.18.0.6", 1, "198.18.1.1", 2)));
    }

    [Fact]
    public void Source_DottedMask_Matches()
    {
        Assert.True(Matches("-s 198.18.0.0/255.255.0.0", Tcp("198.18.200.1", 1, "198.18.1.1", 2)));
        Assert.False(Matches("-s 198.18.0.0/255.255.0.0", Tcp("198.19.0.1", 1, "198.18.1.1", 2)));
    }

    [Fact]
    public void Source_Inverted_MatchesAddressesOutside()
    {
        Assert.False(Matches("! -s 198.18.0.0/24", Tcp("198.18.0.77", 1, "198.18.1.1", 2)));
        Assert.True(Matches("! -s 198.18.0.0/24", Tcp("198.18.1.77", 1, "198.18.1.1", 2)));
    }

    [Fact]
    public void Source_V6Prefix_Matches()
    {
        Assert.True(Matches("-s 2001:db8:1::/48", Tcp("2001:db8:1:2::5", 1, "2001:db8::1", 2)));
        Assert.False(Matches("-s 2001:db8:1::/48", Tcp("2001:db8:2::5", 1, "2001:db8::1", 2)));
    }

    [Fact]
    public void Source_V6LongPrefix_ComparesLowHalf()
    {
        Assert.True(Matches("-s 2001:db8::1:0/112", Tcp("2001:db8::1:ffff", 1, "2001:db8::1", 2)));
        Assert.False(Matches("-s 2001:db8::1:0/112", Tcp("2001:db8::2:0", 1, "2001:db8::1", 2)));
    }

    [Fact]
    public void Destination_Cidr_MatchesAddressesInsideOnly()
    {
        Assert.True(Matches("-d 198.18.1.0/24", Tcp("198.18.0.1", 1, "198.18.1.9", 2)));
        Assert.False(Matches("-d 198.18.1.0/24", Tcp("198.18.0.1", 1, "198.18.2.9", 2)));
    }

    [Fact]
    public void Destination_Inverted_MatchesAddressesOutside()
    {
        Assert.False(Matches("! -d 198.18.1.0/24", Tcp("198.18.0.1", 1, "198.18.1.9", 2)));
        Assert.True(Matches("! -d 198.18.1.0/24", Tcp("198.18.0.1", 1, "198.18.2.9", 2)));
    }

    [Fact]
    public void SourceList_ExpandsIntoOneRulePerAddress()
    {
        var rs = Input("DROP", "-s 198.18.0.1,198.18.0.2 -j ACCEPT");
        Assert.Equal(2, rs.Rules.Count);
        Assert.Equal("-A INPUT -s 198.18.0.1/32 -j ACCEPT", rs.Rules[0].ToString());
        Assert.Equal("-A INPUT -s 198.18.0.2/32 -j ACCEPT", rs.Rules[1].ToString());
        Assert.Equal(Firewall.Core.Rules.Verdict.Accept, Eval(rs, Tcp("198.18.0.2", 1, "198.18.1.1", 2)));
        Assert.Equal(Firewall.Core.Rules.Verdict.Drop, Eval(rs, Tcp("198.18.0.3", 1, "198.18.1.1", 2)));
    }

    [Fact]
    public void SourceAndDestinationLists_ExpandToEveryPair()
    {
        var rs = Input("DROP", "-s 198.18.0.1,198.18.0.2 -d 198.18.1.1,198.18.1.2 -j ACCEPT");
        Assert.Equal(4, rs.Rules.Count);
        Assert.Equal("-A INPUT -s 198.18.0.2/32 -d 198.18.1.1/32 -j ACCEPT", rs.Rules[2].ToString());
    }

    [Fact]
    public void InInterface_Exact_MatchesThatNameOnly()
    {
        Assert.True(Matches("-i eth1", Tcp("198.18.0.1", 1, "198.18.1.1", 2), inIf: "eth1"));
        Assert.False(Matches("-i eth1", Tcp("198.18.0.1", 1, "198.18.1.1", 2), inIf: "eth10"));
    }

    [Fact]
    public void InInterface_Wildcard_MatchesPrefix()
    {
        Assert.True(Matches("-i eth+", Tcp("198.18.0.1", 1, "198.18.1.1", 2), inIf: "eth10"));
        Assert.False(Matches("-i eth+", Tcp("198.18.0.1", 1, "198.18.1.1", 2), inIf: "wlan0"));
    }

    [Fact]
    public void InInterface_Inverted_MatchesOtherNames()
    {
        Assert.False(Matches("! -i lo", Tcp("198.18.0.1", 1, "198.18.1.1", 2), inIf: "lo"));
        Assert.True(Matches("! -i lo", Tcp("198.18.0.1", 1, "198.18.1.1", 2), inIf: "eth0"));
    }

    [Fact]
    public void OutInterface_MatchesInForward()
    {
        var rs = Chain("FORWARD", "DROP", 4, "-i eth0 -o eth1 -j ACCEPT");
        Assert.Equal(Firewall.Core.Rules.Verdict.Accept, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 2), hook: Firewall.Core.Rules.FilterHook.Forward, inIf: "eth0", outIf: "eth1"));
        Assert.Equal(Firewall.Core.Rules.Verdict.Drop, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 2), hook: Firewall.Core.Rules.FilterHook.Forward, inIf: "eth0", outIf: "eth2"));
    }

    [Fact]
    public void OutInterface_Inverted_MatchesOtherNames()
    {
        var rs = Chain("OUTPUT", "DROP", 4, "! -o eth1 -j ACCEPT");
        Assert.Equal(Firewall.Core.Rules.Verdict.Drop, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 2), hook: Firewall.Core.Rules.FilterHook.Output, inIf: null, outIf: "eth1"));
        Assert.Equal(Firewall.Core.Rules.Verdict.Accept, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 2), hook: Firewall.Core.Rules.FilterHook.Output, inIf: null, outIf: "eth2"));
    }

    [Fact]
    public void Fragment_MatchesLaterFragmentsOnly()
    {
        var later = Other("198.18.0.1", "198.18.1.1", IpProto.Udp);
        later.IsFragment = true; later.FragmentOffset = 1480;
        var first = Other("198.18.0.1", "198.18.1.1", IpProto.Udp);
        first.IsFragment = true; first.MoreFragments = true;
        Assert.True(Matches("-f", later));
        Assert.False(Matches("-f", first));
    }

    [Fact]
    public void Fragment_Inverted_MatchesUnfragmentedAndFirst()
    {
        var later = Other("198.18.0.1", "198.18.1.1", IpProto.Udp);
        later.FragmentOffset = 8;
        Assert.False(Matches("! -f", later));
        Assert.True(Matches("! -f", Other("198.18.0.1", "198.18.1.1", IpProto.Udp)));
    }

    [Fact]
    public void V4Rule_DoesNotMatchV6Packet()
    {
        var rs = Input("ACCEPT", "-j DROP");
        Assert.Equal(Firewall.Core.Rules.Verdict.Accept, Eval(rs, Tcp("2001:db8::1", 1, "2001:db8::2", 2)));
        Assert.Equal(Firewall.Core.Rules.Verdict.Drop, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 2)));
    }
}
