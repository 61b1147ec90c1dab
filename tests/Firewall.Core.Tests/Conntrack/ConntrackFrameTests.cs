using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Packets;
using FB = Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Conntrack;

/// <summary>Conntrack on real frames through the parser: checksums, ICMP errors (RELATED), families.</summary>
public class ConntrackFrameTests
{
    private const long S = 1_000_000_000L;
    private readonly ConntrackTable _t = new(new ConntrackOptions { Max = 64 });
    private readonly ConntrackWorker _w;
    private long _now = 100 * S;

    public ConntrackFrameTests() => _w = _t.CreateWorker();

    private TrackResult Send(byte[] ipPacket, bool received = true, bool accept = true)
    {
        PacketParser.Parse(ipPacket, LinkType.RawIp, out var p);
        var r = _w.Track(ref p, _now, received ? TrackOptions.Received : TrackOptions.LocallyGenerated);
        if (r.IsNew) { if (accept) _w.Confirm(ref r); else _w.Release(ref r); }
        return r;
    }

    private static byte[] UdpV4(string src, ushort sport, string dst, ushort dport) =>
        FB.Ipv4(src, dst, IpProto.Udp, FB.Udp(sport, dport, "hello"u8.ToArray()));

    [Fact]
    public void IcmpPortUnreachable_QuotingTrackedUdp_IsRelated_InReplyDirection()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        Send(dgram);
        var err = FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Icmp, FB.Icmp(3, 3, payload: dgram));
        var r = Send(err);
        Assert.Equal(CtState.Related, r.State);
        Assert.Equal(CtDirection.Reply, r.Direction);
        var entry = Assert.Single(_t.Snapshot(_now));
        Assert.False(entry.Status.HasFlag(CtStatus.SeenReply)); // a RELATED error does not count as a reply
    }

    [Theory]
    [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(11)] [InlineData(12)]
    public void EveryIcmpErrorType_QuotingTrackedFlow_IsRelated(byte type)
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        Send(dgram);
        Assert.Equal(CtState.Related, Send(FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Icmp, FB.Icmp(type, 0, payload: dgram))).State);
    }

    [Fact]
    public void IcmpError_QuotingUnknownFlow_IsInvalid_CountedAsError()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        var r = Send(FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Icmp, FB.Icmp(3, 3, payload: dgram)));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(InvalidReason.IcmpErrorNoEntry, r.Reason);
        Assert.Equal(1, _t.ReadCounters().Error);
        Assert.Equal(0, _t.Count);
    }

    [Fact]
    public void IcmpError_ToAnotherAddressOfTheSender_IsInvalid_OuterDestinationCheck()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        Send(dgram);
        var r = Send(FB.Ipv4("198.18.0.2", "198.18.0.5", IpProto.Icmp, FB.Icmp(3, 3, payload: dgram)));
        Assert.Equal(InvalidReason.IcmpErrorDestMismatch, r.Reason);
    }

    [Fact]
    public void IcmpError_QuotingEchoRequest_IsRelated()
    {
        var echo = FB.Ipv4("198.18.0.1", "198.18.0.9", IpProto.Icmp, FB.Icmp(8, 0, id: 77, seq: 1));
        Send(echo);
        var r = Send(FB.Ipv4("198.18.0.3", "198.18.0.1", IpProto.Icmp, FB.Icmp(11, 0, payload: echo)));
        Assert.Equal(CtState.Related, r.State);
    }

    [Fact]
    public void IcmpError_QuotingAnIcmpError_IsInvalid()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        Send(dgram);
        var inner = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Icmp, FB.Icmp(3, 3, payload: dgram));
        var r = Send(FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Icmp, FB.Icmp(3, 3, payload: inner)));
        Assert.Equal(CtState.Invalid, r.State);
    }

    [Fact]
    public void IcmpError_DoesNotRefreshTimerOrChangeState()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        Send(dgram);
        _now += 20 * S;
        Send(FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Icmp, FB.Icmp(3, 3, payload: dgram)));
        Assert.Equal(10u, Assert.Single(_t.Snapshot(_now)).RemainingMs / 1000);
    }

    [Fact]
    public void Icmpv6PacketTooBig_QuotingTrackedTcp_IsRelated()
    {
        var syn = FB.Ipv6("2001:db8::1", "2001:db8::2", IpProto.Tcp, FB.Tcp(40000, 443, seq: 1, flags: 0x02));
        Send(syn);
        var r = Send(FB.Ipv6("2001:db8::2", "2001:db8::1", IpProto.Icmpv6, FB.Icmp(2, 0, seq: 1280, payload: syn)));
        Assert.Equal(CtState.Related, r.State);
    }

    [Fact]
    public void UdpBadChecksum_Received_IsInvalid_LocallyGenerated_IsTrusted()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        dgram[^1] ^= 0xff; // corrupt payload: the checksum no longer matches
        var r = Send(dgram);
        Assert.Equal(InvalidReason.UdpBadChecksum, r.Reason);
        Assert.Equal(CtState.New, Send(dgram, received: false).State);
    }

    [Fact]
    public void UdpChecksumZero_IsAccepted()
    {
        var dgram = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(5000, 6000, [1, 2, 3]), fillL4Checksum: false);
        Assert.Equal(CtState.New, Send(dgram).State);
    }

    [Fact]
    public void TcpBadChecksum_Received_IsInvalid()
    {
        var syn = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Tcp, FB.Tcp(40000, 22, flags: 0x02));
        syn[^1] ^= 0x55;
        Assert.Equal(InvalidReason.TcpBadChecksum, Send(syn).Reason);
    }

    [Fact]
    public void BadIpv4HeaderChecksum_Received_IsInvalid()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        dgram[10] ^= 0xff;
        Assert.Equal(CtState.Invalid, Send(dgram).State);
    }

    [Fact]
    public void Ipv6NoNextHeader_IsInvalid()
    {
        var pkt = FB.Ipv6("2001:db8::1", "2001:db8::2", IpProto.Ipv6NoNext, []);
        Assert.Equal(CtState.Invalid, Send(pkt).State);
    }

    [Fact]
    public void Truncated_IsInvalid_NeverThrows()
    {
        var dgram = UdpV4("198.18.0.1", 5000, "198.18.0.2", 6000);
        for (int len = 0; len < dgram.Length; len++)
            Assert.Equal(CtState.Invalid, Send(dgram[..len]).State);
    }

    [Fact]
    public void ArpFrame_IsUntracked_NotInvalid()
    {
        PacketParser.Parse(FB.Arp(), LinkType.Ethernet, out var p);
        Assert.Equal(CtState.Untracked, _w.Track(ref p, _now, TrackOptions.Received).State);
    }

    [Fact]
    public void RandomFrames_NeverThrow_AndNeverExceedMax()
    {
        var rnd = new Random(42);
        var samples = SampleFrames.All.ToArray();
        for (int i = 0; i < 20000; i++)
        {
            var (link, frame) = samples[rnd.Next(samples.Length)];
            var f = (byte[])frame.Clone();
            for (int k = rnd.Next(4); k > 0; k--) f[rnd.Next(f.Length)] = (byte)rnd.Next(256);
            if (rnd.Next(5) == 0) f = f[..rnd.Next(f.Length + 1)];
            PacketParser.Parse(f, link, out var p);
            var r = _w.Track(ref p, _now + i * 1000L, rnd.Next(2) == 0 ? TrackOptions.Received : TrackOptions.LocallyGenerated);
            if (r.IsNew) { if (rnd.Next(2) == 0) _w.Confirm(ref r); else _w.Release(ref r); }
            Assert.True(_t.Count <= 64);
        }
    }
}
