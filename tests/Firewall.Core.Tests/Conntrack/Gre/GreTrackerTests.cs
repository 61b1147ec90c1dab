using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Packets;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Conntrack.Gre;

/// <summary>
/// GRE tracking (nf_conntrack_proto_gre.c) through the parser and the worker: keys, INVALID, timeouts, ASSURED,
/// expiry and listings, each compared with what the 6.18.44 kernel did in a router namespace ("kernel:").
/// </summary>
public class GreTrackerTests
{
    private const long S = 1_000_000_000L;
    private readonly ConntrackTable _t;
    private readonly ConntrackWorker _w;
    private long _now = 1000 * S;

    public GreTrackerTests()
    {
        _t = new ConntrackTable(new ConntrackOptions { Max = 64 });
        _w = _t.CreateWorker();
    }

    private TrackResult Send(string src, string dst, byte[] gre)
    {
        var frame = src.Contains(':') ? Ipv6(src, dst, ProtoGre, gre) : Ipv4(src, dst, ProtoGre, gre);
        Assert.Equal(ParseError.None, PacketParser.Parse(frame, LinkType.RawIp, out var p));
        var r = _w.Track(ref p, _now, TrackOptions.Received);
        if (r.IsNew) Assert.True(_w.Confirm(ref r));
        return r;
    }

    private TrackResult AB(byte[] gre) => Send(A4, B4, gre);
    private TrackResult BA(byte[] gre) => Send(B4, A4, gre);
    private List<ConntrackEntrySnapshot> Entries => _t.Snapshot(_now);
    private ConntrackEntrySnapshot Entry => Assert.Single(Entries);

    [Fact]
    public void Version0_HasKeysZero_30s_Unreplied()
    {
        // kernel: "gre 47 29 src=… dst=… srckey=0x0 dstkey=0x0 [UNREPLIED] src=… srckey=0x0 dstkey=0x0"
        var r = AB(GreBuilder.V0());
        Assert.Equal(CtState.New, r.State);
        var e = Entry;
        Assert.Equal(0, e.Orig.SrcId);
        Assert.Equal(0, e.Orig.DstId);
        Assert.Equal(30_000u, e.RemainingMs);
        Assert.Equal(CtStatus.None, e.Status & (CtStatus.SeenReply | CtStatus.Assured));
    }

    [Fact]
    public void Version0_KeyFieldIsNotPartOfTheTuple()
    {
        // kernel: v0 with K bit and key 0xabcd1234 → srckey=0x0 dstkey=0x0; a second key shares the entry
        var first = AB(GreBuilder.V0(key: 0xabcd1234));
        var r = AB(GreBuilder.V0(key: 0x1));
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(first.Entry, r.Entry);
        Assert.Equal(0, Entry.Orig.DstId);
    }

    [Fact]
    public void Version0_OriginalPacketsBeforeReply_AreNew_AndDoNotExtend()
    {
        // kernel: v0 a->b twice → NEW, NEW (30 s each time)
        AB(GreBuilder.V0());
        _now += 10 * S;
        Assert.Equal(CtState.New, AB(GreBuilder.V0()).State);
        Assert.Equal(30_000u, Entry.RemainingMs);
    }

    [Fact]
    public void Reply_IsEstablished_Keeps30s_SetsSeenReply()
    {
        // kernel: v0 b->a → ESTABLISHED, "gre 47 29 …" without [UNREPLIED], not yet ASSURED
        AB(GreBuilder.V0());
        var r = BA(GreBuilder.V0());
        Assert.Equal(CtState.Established, r.State);
        Assert.Equal(CtDirection.Reply, r.Direction);
        var e = Entry;
        Assert.Equal(30_000u, e.RemainingMs);
        Assert.Equal(CtStatus.SeenReply, e.Status & (CtStatus.SeenReply | CtStatus.Assured));
    }

    [Fact]
    public void PacketAfterReply_Uses180s_AndSetsAssured()
    {
        // kernel: v0 a->b after the reply → ESTABLISHED, "gre 47 179 … [ASSURED]"
        AB(GreBuilder.V0());
        BA(GreBuilder.V0());
        var r = AB(GreBuilder.V0());
        Assert.Equal(CtState.Established, r.State);
        Assert.Equal(CtStatus.Assured, r.Status & CtStatus.Assured);
        Assert.Equal(180_000u, Entry.RemainingMs);
    }

    [Fact]
    public void ConfiguredGreTimeouts_AreUsed()
    {
        var t = new ConntrackTable(new ConntrackOptions { Max = 8, Timeouts = { Gre = 45, GreStream = 200 } });
        var w = t.CreateWorker();
        TrackResult Go(string s, string d)
        {
            PacketParser.Parse(Ipv4(s, d, ProtoGre, GreBuilder.V0()), LinkType.RawIp, out var p);
            var r = w.Track(ref p, _now, TrackOptions.Received);
            if (r.IsNew) w.Confirm(ref r);
            return r;
        }
        Go(A4, B4);
        Assert.Equal(45_000u, Assert.Single(t.Snapshot(_now)).RemainingMs);
        Go(B4, A4);
        Go(A4, B4);
        Assert.Equal(200_000u, Assert.Single(t.Snapshot(_now)).RemainingMs);
    }

    [Fact]
    public void UnrepliedEntry_ExpiresAfter30s()
    {
        AB(GreBuilder.V0());
        _now += 29_990_000_000L;
        Assert.Single(Entries);
        _now += 20_000_000L;
        Assert.Empty(Entries);
        Assert.Equal(CtState.New, AB(GreBuilder.V0()).State);
    }

    [Fact]
    public void AssuredEntry_ExpiresAfter180s()
    {
        AB(GreBuilder.V0());
        BA(GreBuilder.V0());
        AB(GreBuilder.V0());
        _now += 179 * S;
        Assert.Single(Entries);
        _now += 2 * S;
        Assert.Empty(Entries);
    }

    [Fact]
    public void Pptp_CallIdIsTheDestinationKey_SourceKeyZero()
    {
        // kernel: v1 a->b call 0x1111 → "srckey=0x0 dstkey=0x1111 [UNREPLIED] … srckey=0x1111 dstkey=0x0"
        AB(GreBuilder.Pptp(0x1111));
        var e = Entry;
        Assert.Equal(0, e.Orig.SrcId);
        Assert.Equal(0x1111, e.Orig.DstId);
        Assert.Equal(0x1111, e.Reply.SrcId);
        Assert.Equal(0, e.Reply.DstId);
    }

    [Fact]
    public void Pptp_PeersOwnCallId_IsASeparateEntry_WithoutThePptpHelper()
    {
        // kernel: v1 b->a call 0x2222 after a->b call 0x1111 → NEW (a second UNREPLIED entry); even call 0 is NEW:
        // without the PPTP helper's keymap the reply tuple (srckey 0x1111) never matches
        AB(GreBuilder.Pptp(0x1111));
        Assert.Equal(CtState.New, BA(GreBuilder.Pptp(0x2222)).State);
        Assert.Equal(CtState.New, BA(GreBuilder.Pptp(0)).State);
        Assert.Equal(3, Entries.Count);
        Assert.All(Entries, e => Assert.Equal(CtStatus.None, e.Status & CtStatus.SeenReply));
    }

    [Fact]
    public void Pptp_DifferentCallIds_AreDifferentEntries()
    {
        var first = AB(GreBuilder.Pptp(1));
        var second = AB(GreBuilder.Pptp(2));
        Assert.NotEqual(first.Entry, second.Entry);
        Assert.Equal(2, Entries.Count);
    }

    [Fact]
    public void Version1_NonPppProtocol_IsInvalid()
    {
        // kernel: v1 with protocol 0x0800 (8+ bytes) → INVALID, no entry (IPv4 and IPv6)
        var r = AB(GreBuilder.Pptp(0x1111, protocol: 0x0800));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(InvalidReason.GreMalformed, r.Reason);
        Assert.Empty(Entries);
    }

    [Fact]
    public void Version1_ShorterThan8Bytes_IsTrackedWithKeysZero()
    {
        // kernel: v1 header of 6 bytes (PPP or not) → NEW, keys 0
        var r = AB([0x30, 0x01, 0x08, 0x00, 0x00, 0x04]);
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(0, Entry.Orig.DstId);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0, 0 })]
    public void TruncatedGre_IsTrackedLikeGeneric(byte[] gre)
    {
        // kernel: 0- and 2-byte GRE payloads → NEW, keys 0
        Assert.Equal(CtState.New, AB(gre).State);
        Assert.Equal(0, Entry.Orig.DstId);
    }

    [Theory]
    [InlineData((byte)2)]
    [InlineData((byte)7)]
    public void OtherVersions_HaveKeysZero_EvenWithNonPppProtocol(byte version)
    {
        // kernel: version 2, and version 7 with protocol 0x0800 → NEW, keys 0
        Assert.Equal(CtState.New, AB([0, version, 0x08, 0x00, 0, 0, 0, 0x55]).State);
        Assert.Equal(0, Entry.Orig.DstId);
    }

    [Fact]
    public void Ipv6_Pptp_IsTracked_AndNonPppInvalid()
    {
        // kernel: IPv6 v1 call 0x77 → NEW "srckey=0x0 dstkey=0x77"; IPv6 v1 non-PPP → INVALID
        Assert.Equal(CtState.New, Send(A6, B6, GreBuilder.Pptp(0x77)).State);
        Assert.Equal(0x77, Entry.Orig.DstId);
        Assert.Equal(CtState.Invalid, Send(A6, B6, GreBuilder.Pptp(0x77, protocol: 0x0800)).State);
    }

    [Fact]
    public void ListLine_HasNoTimeoutText_LikeConntrackL()
    {
        // kernel (conntrack -L): "gre      47 29 src=198.18.1.2 dst=198.18.2.2 srckey=0x0 dstkey=0x1111 [UNREPLIED]
        //   src=198.18.2.2 dst=198.18.1.2 srckey=0x1111 dstkey=0x0 mark=0 use=1"
        AB(GreBuilder.Pptp(0x1111));
        _now += S / 2;
        Assert.Equal("gre      47 29 src=198.18.0.1 dst=198.18.0.2 srckey=0x0 dstkey=0x1111 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 srckey=0x1111 dstkey=0x0 mark=0 use=1",
            ConntrackFormatter.ListLine(Entry));
    }

    [Fact]
    public void ProcLine_ShowsTheEntrysTimeouts()
    {
        // kernel (/proc): "ipv4     2 gre      47 179 timeout=30, stream_timeout=180 src=… srckey=0x0 dstkey=0x0 … [ASSURED] mark=0 zone=0 use=2"
        var t = new ConntrackTable(new ConntrackOptions { Max = 8, Timeouts = { Gre = 31, GreStream = 181 } });
        var w = t.CreateWorker();
        PacketParser.Parse(Ipv4(A4, B4, ProtoGre, GreBuilder.V0()), LinkType.RawIp, out var p);
        var r = w.Track(ref p, _now, TrackOptions.Received);
        w.Confirm(ref r);
        Assert.Equal("ipv4     2 gre      47 31 timeout=31, stream_timeout=181 src=198.18.0.1 dst=198.18.0.2 srckey=0x0 dstkey=0x0 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 srckey=0x0 dstkey=0x0 mark=0 zone=0 use=2",
            ConntrackFormatter.ProcLine(Assert.Single(t.Snapshot(_now))));
    }

    [Fact]
    public void IcmpErrorQuotingPptp_FindsTheEntryByCallId()
    {
        AB(GreBuilder.Pptp(0x1111));
        var quoted = Ipv4(A4, B4, ProtoGre, GreBuilder.Pptp(0x1111));
        var err = Ipv4(B4, A4, ProtoIcmp, Icmp(3, 1, payload: quoted[..28]));
        PacketParser.Parse(err, LinkType.RawIp, out var p);
        Assert.Equal(CtState.Related, _w.Track(ref p, _now, TrackOptions.Received).State);
        var other = Ipv4(B4, A4, ProtoIcmp, Icmp(3, 1, payload: Ipv4(A4, B4, ProtoGre, GreBuilder.Pptp(0x2222))[..28]));
        PacketParser.Parse(other, LinkType.RawIp, out var q);
        Assert.Equal(CtState.Invalid, _w.Track(ref q, _now, TrackOptions.Received).State);
    }
}

/// <summary>DCCP on 6.18: no tracker (removed in 6.16), so the generic one; conntrack -L still names it.</summary>
public class DccpGenericTests
{
    [Fact]
    public void Dccp_IsGeneric_600s_AndListedAsConntrackToolsDo()
    {
        // kernel: DCCP request a->b → NEW; /proc "unknown  33 599 src=… dst=… [UNREPLIED] …";
        // conntrack -L "dccp     33 599 src=… dst=… sport=0 dport=0 [UNREPLIED] … sport=0 dport=0 mark=0 use=1"
        var t = new ConntrackTable(new ConntrackOptions { Max = 8 });
        var w = t.CreateWorker();
        long now = 1000L * 1_000_000_000;
        PacketParser.Parse(Ipv4(A4, B4, ProtoDccp, Dccp(5000, 6000)), LinkType.RawIp, out var p);
        var r = w.Track(ref p, now, TrackOptions.Received);
        Assert.Equal(CtState.New, r.State);
        w.Confirm(ref r);
        var e = Assert.Single(t.Snapshot(now + 1_000_000));
        Assert.Equal(599_999u, e.RemainingMs);
        Assert.Equal(0, e.Orig.SrcId);
        Assert.Equal("dccp     33 599 src=198.18.0.1 dst=198.18.0.2 sport=0 dport=0 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=0 dport=0 mark=0 use=1",
            ConntrackFormatter.ListLine(e));
        Assert.Equal("ipv4     2 unknown  33 599 src=198.18.0.1 dst=198.18.0.2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 mark=0 zone=0 use=2",
            ConntrackFormatter.ProcLine(e));
    }
}
