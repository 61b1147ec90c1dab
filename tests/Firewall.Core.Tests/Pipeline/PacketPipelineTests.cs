using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Core.Rules.IptablesSave;
using FB = Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Pipeline;

/// <summary>The whole path: raw table → conntrack → filter → confirm/release, with the seed's forwarding policy.</summary>
public class PacketPipelineTests
{
    private const long S = 1_000_000_000L;
    private const string Inside = "198.18.10.104", Outside = "198.18.20.77";

    // ESTABLISHED,RELATED accepted, INVALID dropped, NEW only from the inside, policy DROP; UDP 7777 not tracked.
    private const string Policy = """
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A PREROUTING -p udp -m udp --dport 7777 -j CT --notrack
        COMMIT
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A FORWARD -m conntrack --ctstate INVALID -j DROP
        -A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT
        -A FORWARD -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP
        -A FORWARD -i inside -m conntrack --ctstate NEW -j ACCEPT
        COMMIT
        """;

    private readonly ConntrackTable _table = new(new ConntrackOptions { Max = 256 });
    private readonly PipelineWorker _w;
    private readonly RuleSet _rules;
    private long _now = 100 * S;

    public PacketPipelineTests()
    {
        var b = new RuleSetBuilder();
        IptablesSaveParser.Load(Policy, "policy.v4", 4, b);
        _rules = b.Build() ?? throw new InvalidOperationException(string.Join("\n", b.Errors));
        _w = new PacketPipeline(_table, new RuleSetHolder(_rules)).CreateWorker();
    }

    private PacketDecision Fwd(byte[] ip, bool fromInside)
    {
        _w.Process(ip, LinkType.RawIp, _now, FilterHook.Forward, fromInside ? "inside" : "outside", fromInside ? "outside" : "inside", received: true, out var d);
        return d;
    }

    private static byte[] Tcp(string src, ushort sport, string dst, ushort dport, byte flags, uint seq = 1000, uint ack = 0)
        => src.Contains(':') ? FB.Ipv6(src, dst, IpProto.Tcp, FB.Tcp(sport, dport, seq, ack, flags))
                             : FB.Ipv4(src, dst, IpProto.Tcp, FB.Tcp(sport, dport, seq, ack, flags));

    [Fact]
    public void InsideOpensTcp_HandshakeAndAnswersPass()
    {
        var syn = Fwd(Tcp(Inside, 40000, Outside, 22, 0x02, 1000), fromInside: true);
        Assert.Equal(Verdict.Accept, syn.Verdict);
        Assert.Equal(CtState.New, syn.Track.State);
        var synAck = Fwd(Tcp(Outside, 22, Inside, 40000, 0x12, 5000, 1001), fromInside: false);
        Assert.Equal(Verdict.Accept, synAck.Verdict);
        Assert.Equal(CtState.Established, synAck.Track.State);
        Assert.Equal(0, synAck.RuleId); // the first rule decided: about one rule check for established traffic
        var ack = Fwd(Tcp(Inside, 40000, Outside, 22, 0x10, 1001, 5001), fromInside: true);
        Assert.Equal(Verdict.Accept, ack.Verdict);
        Assert.True(ack.Track.Status.HasFlag(CtStatus.Assured));
    }

    [Fact]
    public void OutsideCannotOpen_AndLeavesNoEntry()
    {
        var syn = Fwd(Tcp(Outside, 40000, Inside, 22, 0x02), fromInside: false);
        Assert.Equal(Verdict.Drop, syn.Verdict);
        Assert.Equal(CtState.New, syn.Track.State);
        Assert.True(syn.RuleId < 0); // the policy dropped it
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void CraftedBareAckFromOutside_IsNew_AndDropped()
    {
        var ack = Fwd(Tcp(Outside, 40000, Inside, 22, 0x10, 1, 1), fromInside: false);
        Assert.Equal(CtState.New, ack.Track.State);
        Assert.Equal(Verdict.Drop, ack.Verdict);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void Invalid_IsDropped_ByTheInvalidRule()
    {
        var synAck = Fwd(Tcp(Outside, 22, Inside, 40000, 0x12, 5000, 1001), fromInside: false);
        Assert.Equal(CtState.Invalid, synAck.Track.State);
        Assert.Equal(Verdict.Drop, synAck.Verdict);
        Assert.Equal(1, synAck.RuleId);
    }

    [Fact]
    public void PingOutWorks_PingInDoesNot()
    {
        var req = Fwd(FB.Ipv4(Inside, Outside, IpProto.Icmp, FB.Icmp(8, 0, 1, 1)), fromInside: true);
        Assert.Equal(Verdict.Accept, req.Verdict);
        Assert.Equal(Verdict.Accept, Fwd(FB.Ipv4(Outside, Inside, IpProto.Icmp, FB.Icmp(0, 0, 1, 1)), fromInside: false).Verdict);
        Assert.Equal(Verdict.Drop, Fwd(FB.Ipv4(Outside, Inside, IpProto.Icmp, FB.Icmp(8, 0, 2, 1)), fromInside: false).Verdict);
    }

    [Fact]
    public void RawNotrack_IsUntracked_AndAcceptedByItsRule()
    {
        var d = Fwd(FB.Ipv4(Outside, Inside, IpProto.Udp, FB.Udp(5000, 7777, [1])), fromInside: false);
        Assert.Equal(CtState.Untracked, d.Track.State);
        Assert.Equal(Verdict.Accept, d.Verdict);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void IcmpErrorAboutAcceptedFlow_IsRelated_AndPasses()
    {
        var dgram = FB.Ipv4(Inside, Outside, IpProto.Udp, FB.Udp(5000, 6000, [1, 2]));
        Fwd(dgram, fromInside: true);
        var err = Fwd(FB.Ipv4(Outside, Inside, IpProto.Icmp, FB.Icmp(3, 3, payload: dgram)), fromInside: false);
        Assert.Equal(CtState.Related, err.Track.State);
        Assert.Equal(Verdict.Accept, err.Verdict);
    }

    [Fact]
    public void NonIpFrame_FollowsNonIpPolicy()
    {
        _w.Process(FB.Arp(), LinkType.Ethernet, _now, FilterHook.Forward, "outside", "inside", true, out var d);
        Assert.True(d.NonIp);
        Assert.Equal(Verdict.Accept, d.Verdict);
    }

    [Fact]
    public void RuleCounters_CountAcceptedPackets()
    {
        Fwd(Tcp(Inside, 40000, Outside, 22, 0x02, 1000), fromInside: true);
        Fwd(Tcp(Outside, 22, Inside, 40000, 0x12, 5000, 1001), fromInside: false);
        Assert.Equal(1, _rules.RuleCounters(0).Packets);
        Assert.Equal(1, _rules.RuleCounters(4).Packets);
    }

    [Fact]
    public void EstablishedTraffic_AllocatesNothing()
    {
        var syn = Tcp(Inside, 40000, Outside, 22, 0x02, 1000);
        var synAck = Tcp(Outside, 22, Inside, 40000, 0x12, 5000, 1001);
        var ack = Tcp(Inside, 40000, Outside, 22, 0x10, 1001, 5001);
        Fwd(syn, true); Fwd(synAck, false); Fwd(ack, true);
        for (int i = 0; i < 1000; i++) Fwd(ack, true);
        Assert.Equal(0, Firewall.Core.Tests.AllocationProbe.LeastBytesAllocated(() => { for (int i = 0; i < 10000; i++) Fwd(ack, true); }));
    }
}
