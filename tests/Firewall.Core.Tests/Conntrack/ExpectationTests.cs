using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Expect;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Conntrack.Tcp;
using static Firewall.Core.Tests.Conntrack.TestPackets;

namespace Firewall.Core.Tests.Conntrack;

public class ExpectationTests
{
    private const long S = 1_000_000_000L;
    private static readonly IpAddr Client = V4("198.18.0.10"), Server = V4("198.18.0.20"), Other = V4("198.18.0.30");
    private readonly ConntrackTable _t;
    private readonly ConntrackWorker _w;
    private long _now = 100 * S;
    private int _master;

    public ExpectationTests()
    {
        _t = new ConntrackTable(new ConntrackOptions { Max = 64, ExpectMax = 4 });
        _w = _t.CreateWorker();
        // an FTP-like control connection client:43100 -> server:21 with the ftp helper attached
        var syn = Tcp(Client, 43100, Server, 21, new Seg(F.Syn, 1000, 0, 64240));
        var r = _w.Track(ref syn, _now, new TrackOptions { Zone = -1, HelperId = 1 });
        _w.Confirm(ref r);
        _master = r.Entry;
    }

    private static ParsedPacket Tcp(IpAddr src, ushort sport, IpAddr dst, ushort dport, Seg seg)
    {
        var p = seg.Parse();
        p.Src = src; p.Dst = dst; p.SrcPort = sport; p.DstPort = dport;
        return p;
    }

    private TrackResult Send(ParsedPacket p, bool accept = true)
    {
        var r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
        if (r.IsNew) { if (accept) _w.Confirm(ref r); else _w.Release(ref r); }
        return r;
    }

    private ExpectResult ExpectActive(ushort clientPort, int maxPerMaster = 1, uint timeoutMs = 300_000, int master = -1)
    {
        // active FTP: server (any port) -> client:clientPort
        var t = new ConnTuple { Src = Server, Dst = Client, DstId = clientPort, Proto = IpProto.Tcp, Family = 4 };
        return _w.CreateExpectation(master < 0 ? _master : master, in t, ExpectFlags.SrcPortAny, helperId: 1, maxPerMaster, timeoutMs);
    }

    [Fact]
    public void ExpectedConnection_FirstPacketIsRelated_EntryIsExpected_LinkedToMaster()
    {
        Assert.Equal(ExpectResult.Created, ExpectActive(51210));
        var r = Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240)));
        Assert.Equal(CtState.Related, r.State);
        var child = _t.Snapshot(_now).Single(s => s.Orig.SrcId == 20);
        Assert.True(child.Status.HasFlag(CtStatus.Expected));
        Assert.Equal(_master, child.Master);
        Assert.Equal(0, _t.Expectations.Count);
        Assert.Equal(1, _t.ReadCounters().ExpectNew);
    }

    [Fact]
    public void ExpectedConnection_OriginalPacketsBeforeReplyAreRelated_ThenEstablished()
    {
        ExpectActive(51210);
        Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240)));
        Assert.Equal(CtState.Related, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
        Assert.Equal(CtState.Established, Send(Tcp(Client, 51210, Server, 20, new Seg(F.SynAck, 99, 8, 64240))).State);
        Assert.Equal(CtState.Established, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Ack, 8, 100, 64240))).State);
    }

    [Fact]
    public void WrongPort_IsNew_AndLeavesExpectation()
    {
        ExpectActive(51210);
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 51211, new Seg(F.Syn, 7, 0, 64240))).State);
        Assert.Equal(1, _t.Expectations.Count);
    }

    [Fact]
    public void WrongSourceAddress_IsNew_WhenSourceAddressIsNotWildcard()
    {
        ExpectActive(51210);
        Assert.Equal(CtState.New, Send(Tcp(Other, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void WildcardSourceAddress_MatchesAnyHost()
    {
        var t = new ConnTuple { Dst = Client, DstId = 5000, Proto = IpProto.Tcp, Family = 4 };
        _w.CreateExpectation(_master, in t, ExpectFlags.SrcAddrAny | ExpectFlags.SrcPortAny, helperId: 2, maxPerMaster: 8, timeoutMs: 300_000);
        Assert.Equal(CtState.Related, Send(Tcp(Other, 33333, Client, 5000, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void ExpiredExpectation_DoesNotMatch()
    {
        ExpectActive(51210, timeoutMs: 300_000);
        _now += 301 * S;
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void ExpectationConsumed_EvenWhenTheFirstPacketIsDropped()
    {
        ExpectActive(51210);
        Assert.Equal(CtState.Related, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240)), accept: false).State);
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    // The kernel checks a packet (checksum, lengths, flags, tcp_new) only after init_conntrack has taken the expectation
    // for the new entry: an INVALID first packet uses the expectation up (seen on 6.18: helper_invalid_first_packet).

    [Fact]
    public void InvalidFirstPacket_BadTcpFlags_UsesUpTheExpectation()
    {
        ExpectActive(51210);
        Assert.Equal(CtState.Invalid, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn | F.Fin, 7, 0, 64240))).State);
        Assert.Equal(0, _t.Expectations.Count);
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void InvalidFirstPacket_RstWithoutEntry_UsesUpTheExpectation()
    {
        ExpectActive(51210);
        Assert.Equal(CtState.Invalid, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Rst, 7, 0, 64240))).State);
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void InvalidFirstPacket_BadUdpLength_UsesUpTheExpectation()
    {
        // TFTP-like: server (any port) -> client:41341
        var t = new ConnTuple { Src = Server, Dst = Client, DstId = 41341, Proto = IpProto.Udp, Family = 4 };
        Assert.Equal(ExpectResult.Created, _w.CreateExpectation(_master, in t, ExpectFlags.SrcPortAny, helperId: 3, 1, 300_000));
        var buf = new byte[64];
        var bad = Udp(buf, Server, 50340, Client, 41341);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(4), 200); // length field beyond the datagram
        Assert.Equal(CtState.Invalid, Send(bad).State);
        Assert.Equal(CtState.New, Send(Udp(new byte[64], Server, 50340, Client, 41341)).State);
    }

    [Fact]
    public void InvalidPacketOfAnExistingConnection_LeavesTheExpectation()
    {
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
        ExpectActive(51210);
        Assert.Equal(CtState.Invalid, Send(Tcp(Server, 20, Client, 51210, new Seg(F.Syn | F.Fin, 7, 0, 64240))).State);
        Assert.Equal(1, _t.Expectations.Count);
        Assert.Equal(CtState.Related, Send(Tcp(Server, 2020, Client, 51210, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void MaxPerMaster_EvictsTheOldest()
    {
        ExpectActive(1001);
        ExpectActive(1002);
        Assert.Equal(1, _t.Expectations.Count);
        Assert.Equal(CtState.New, Send(Tcp(Server, 20, Client, 1001, new Seg(F.Syn, 7, 0, 64240))).State);
        Assert.Equal(CtState.Related, Send(Tcp(Server, 20, Client, 1002, new Seg(F.Syn, 7, 0, 64240))).State);
    }

    [Fact]
    public void IdenticalExpectation_IsRefreshed_NotDuplicated()
    {
        ExpectActive(1001, maxPerMaster: 8);
        _now += 100 * S;
        _w.Maintain(_now);
        Assert.Equal(ExpectResult.Replaced, ExpectActive(1001, maxPerMaster: 8));
        Assert.Equal(1, _t.Expectations.Count);
        Assert.Equal(300u, _t.SnapshotExpectations(_now)[0].RemainingMs / 1000);
    }

    [Fact]
    public void OverlappingExpectationOfAnotherMaster_IsBusy()
    {
        var syn = Tcp(Client, 43101, Server, 21, new Seg(F.Syn, 1000, 0, 64240));
        var r = _w.Track(ref syn, _now, new TrackOptions { Zone = -1, HelperId = 1 });
        _w.Confirm(ref r);
        ExpectActive(1001);
        Assert.Equal(ExpectResult.Busy, ExpectActive(1001, master: r.Entry));
    }

    [Fact]
    public void TableFull_RefusesNewExpectations()
    {
        for (ushort p = 1; p <= 4; p++) Assert.Equal(ExpectResult.Created, ExpectActive(p, maxPerMaster: 8));
        Assert.Equal(ExpectResult.TableFull, ExpectActive(5, maxPerMaster: 8));
    }

    [Fact]
    public void MasterDeath_RemovesItsExpectations_ButNotItsChildren()
    {
        ExpectActive(1001, maxPerMaster: 8);
        ExpectActive(1002, maxPerMaster: 8);
        Send(Tcp(Server, 20, Client, 1001, new Seg(F.Syn, 7, 0, 64240)));
        Assert.Equal(1, _t.Expectations.Count);
        Assert.Equal(1, _t.Delete(_now, s => s.Index == _master));
        Assert.Equal(0, _t.Expectations.Count);
        Assert.Contains(_t.Snapshot(_now), s => s.Orig.DstId == 1001);
    }

    [Fact]
    public void ListLine_MatchesConntrackExpectFormat()
    {
        ExpectActive(51210);
        var line = ExpectationTable.FormatListLine(_t.SnapshotExpectations(_now + S / 2)[0]);
        Assert.Equal("299 proto=6 src=198.18.0.20 dst=198.18.0.10 sport=0 dport=51210 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.10 master-dst=198.18.0.20 sport=43100 dport=21 class=0 helper=ftp", line);
    }

    [Fact]
    public void HelperTemplate_MarksMasterWithHelper()
    {
        var m = Assert.Single(_t.Snapshot(_now));
        Assert.Equal(1, m.HelperId);
        Assert.True(m.Status.HasFlag(CtStatus.Helper));
    }
}
