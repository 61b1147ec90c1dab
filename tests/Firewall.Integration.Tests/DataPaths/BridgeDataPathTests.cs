using System.Diagnostics;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>The data-path end-to-end tests run one after another: each starts daemons and real traffic on a 2-core box.</summary>
[CollectionDefinition("DataPaths", DisableParallelization = true)]
public sealed class DataPathsCollection;

/// <summary>One bridge lab with the daemon inline (seed policy plus two REJECT rules) shared by the tests of the class.</summary>
public sealed class BridgeFixture() : DaemonFixture<BridgeTopology>(BridgeTopology.Create(), Start)
{
    public const int HttpPort = 80;
    public const int BannerPort = 22;
    public const int RejectTcpPort = 2323;
    public const int RejectUdpPort = 5353;

    private static DaemonProcess Start(BridgeTopology t)
    {
        var rules = DaemonConfig.SeedRules(t.PortIn);
        rules.Insert(3, DaemonConfig.Rule($"-i {t.PortOut} -p tcp --dport {RejectTcpPort} -j REJECT --reject-with tcp-reset"));
        rules.Insert(4, DaemonConfig.Rule($"-i {t.PortOut} -p udp --dport {RejectUdpPort} -j REJECT"));
        var config = DaemonConfig.Create(
            new JsonObject { ["Mode"] = "Bridge", ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 } },
            "DROP", rules);
        var daemon = DaemonProcess.Start(t.Lab, t.Bridge, config);
        Traffic.StartServers(t.Lab, t.Outside, HttpPort, BannerPort, "banner-outside");
        Traffic.StartServers(t.Lab, t.Inside, HttpPort, BannerPort, "banner-inside");
        return daemon;
    }
}

[Collection("DataPaths")]
public sealed class BridgeDataPathTests(BridgeFixture f) : IClassFixture<BridgeFixture>
{
    private NetLab Lab => f.T.Lab;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InsideHost_OpensHttp_GetsAnswer(bool v6)
    {
        var (status, _) = Traffic.Http(Lab, f.T.Inside, BridgeTopology.Outside4Or6(v6), BridgeFixture.HttpPort);
        Assert.Equal("200", status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InsideHost_OpensTcp22_GetsBanner(bool v6)
    {
        Assert.Equal("banner-outside", Traffic.TcpBanner(Lab, f.T.Inside, BridgeTopology.Outside4Or6(v6), BridgeFixture.BannerPort));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OutsideHost_CannotConnectIn(bool v6)
    {
        var (status, exit) = Traffic.Http(Lab, f.T.Outside, BridgeTopology.Inside4Or6(v6), BridgeFixture.HttpPort, timeoutSeconds: 2);
        Assert.Equal("000", status);
        Assert.Equal(28, exit); // timed out: the SYN was dropped, not refused
        Assert.Equal("", Traffic.TcpBanner(Lab, f.T.Outside, BridgeTopology.Inside4Or6(v6), BridgeFixture.BannerPort, timeoutSeconds: 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PingFromInside_IsAnswered(bool v6)
    {
        Assert.Equal(3, Traffic.Ping(Lab, f.T.Inside, BridgeTopology.Outside4Or6(v6)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PingFromOutside_IsDropped(bool v6)
    {
        Assert.Equal(0, Traffic.Ping(Lab, f.T.Outside, BridgeTopology.Inside4Or6(v6)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BareAckFromOutside_IsDroppedAndCounted(bool v6)
    {
        Traffic.Ping(Lab, f.T.Inside, BridgeTopology.Outside4Or6(v6), 1); // neighbours resolved, so only our frames are in flight
        var before = f.Daemon.FreshCounters(f.T.PortOut);
        using var capture = PacketCapture.Start(Lab, f.T.Inside, f.T.InsideLink, "tcp port 40404");
        Traffic.Scapy(Lab, f.T.Outside,
            $"sendp(Ether(dst='{BridgeTopology.InsideMac}')/{Ip(v6, BridgeTopology.Outside4Or6(v6), BridgeTopology.Inside4Or6(v6))}/TCP(sport=40404, dport=22, flags='A', seq=1000, ack=2000), iface='{f.T.OutsideLink}', count=5, inter=0.02)");
        string[] seen = capture.Stop();
        var after = f.Daemon.FreshCounters(f.T.PortOut);

        Assert.Empty(seen);
        Assert.True(after["in"] - before["in"] >= 5, $"in: {before["in"]} -> {after["in"]}");
        Assert.True(after["dropped"] - before["dropped"] >= 5, $"dropped: {before["dropped"]} -> {after["dropped"]}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InvalidFromInside_IsDropped_ValidSynPasses(bool v6)
    {
        Traffic.Ping(Lab, f.T.Inside, BridgeTopology.Outside4Or6(v6), 1);
        using var capture = PacketCapture.Start(Lab, f.T.Outside, f.T.OutsideLink, "tcp portrange 40405-40406");
        string ip = Ip(v6, BridgeTopology.Inside4Or6(v6), BridgeTopology.Outside4Or6(v6));
        Traffic.Scapy(Lab, f.T.Inside,
            $"sendp(Ether(dst='{BridgeTopology.OutsideMac}')/{ip}/TCP(sport=40405, dport=9, flags='SF'), iface='{f.T.InsideLink}', count=3, inter=0.02)\n" +
            $"sendp(Ether(dst='{BridgeTopology.OutsideMac}')/{ip}/TCP(sport=40406, dport=9, flags='S'), iface='{f.T.InsideLink}')");
        string[] seen = capture.Stop();

        Assert.Single(seen); // only the plain SYN (NEW from the inside); SYN+FIN is INVALID
        Assert.Contains(".40406 >", seen[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectedTcp_IsAnsweredWithReset(bool v6)
    {
        var before = f.Daemon.FreshCounters(f.T.PortOut);
        var clock = Stopwatch.StartNew();
        var (status, exit) = Traffic.Http(Lab, f.T.Outside, BridgeTopology.Inside4Or6(v6), BridgeFixture.RejectTcpPort, timeoutSeconds: 3);
        clock.Stop();
        var after = f.Daemon.FreshCounters(f.T.PortOut);

        Assert.Equal("000", status);
        Assert.Equal(7, exit); // "Failed to connect": refused by the RST, not timed out
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.True(after["rejects_sent"] - before["rejects_sent"] >= 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectedUdp_IsAnsweredWithPortUnreachable(bool v6)
    {
        string inside = BridgeTopology.Inside4Or6(v6), outside = BridgeTopology.Outside4Or6(v6);
        Traffic.Ping(Lab, f.T.Inside, outside, 1);
        string answer = Traffic.Scapy(Lab, f.T.Outside,
            $"a = srp1(Ether(dst='{BridgeTopology.InsideMac}')/{Ip(v6, outside, inside)}/UDP(sport=40407, dport={BridgeFixture.RejectUdpPort})/b'x', iface='{f.T.OutsideLink}', timeout=3)\n" +
            (v6 ? "print('none' if a is None else '%s %d %d' % (a[IPv6].src, a[ICMPv6DestUnreach].type, a[ICMPv6DestUnreach].code))"
                : "print('none' if a is None else '%s %d %d' % (a[IP].src, a[ICMP].type, a[ICMP].code))"));
        Assert.Equal(v6 ? $"{inside} 1 4" : $"{inside} 3 3", answer.Trim());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Iperf3FromInside_TransfersThroughTheBridge(bool v6)
    {
        double bps = Traffic.Iperf3(Lab, f.T.Inside, f.T.Outside, BridgeTopology.Outside4Or6(v6), 5201 + (v6 ? 1 : 0));
        Assert.True(bps > 10e6, $"iperf3 through the bridge: {bps / 1e6:F1} Mbit/s");
    }

    [Fact]
    public void ForwardedFrames_AreCountedOnBothPorts()
    {
        Traffic.Ping(Lab, f.T.Inside, BridgeTopology.OutsideV4, 1);
        var inBefore = f.Daemon.FreshCounters(f.T.PortIn);
        var outBefore = DaemonProcess.ParseCounters(f.Daemon.EventsNamed("DataPathStats").Last().Property("Details")!, f.T.PortOut);
        Assert.Equal(10, Traffic.Ping(Lab, f.T.Inside, BridgeTopology.OutsideV4, 10));
        var inAfter = f.Daemon.FreshCounters(f.T.PortIn);
        var outAfter = DaemonProcess.ParseCounters(f.Daemon.EventsNamed("DataPathStats").Last().Property("Details")!, f.T.PortOut);

        Assert.InRange(inAfter["accepted"] - inBefore["accepted"], 10, 14);   // 10 requests (+ ARP refreshes)
        Assert.InRange(outAfter["out"] - outBefore["out"], 10, 14);          // … injected on the outside port
        Assert.InRange(outAfter["accepted"] - outBefore["accepted"], 10, 14); // 10 replies
        Assert.InRange(inAfter["out"] - inBefore["out"], 10, 14);
        Assert.Equal(inAfter["inject_errors"], inBefore["inject_errors"]);
    }

    [Fact]
    public void SteadyState_ForwardingAllocatesNothingOnTheReaderThreads()
    {
        // Warm-up: the same traffic once (first-use paths, tiered JIT), then the measured run.
        Traffic.Flood(Lab, f.T.Inside, BridgeTopology.OutsideV4, 300);
        Traffic.Flood(Lab, f.T.Inside, BridgeTopology.OutsideV6, 300);
        var inBefore = f.Daemon.FreshCounters(f.T.PortIn);
        var outBefore = DaemonProcess.ParseCounters(f.Daemon.EventsNamed("DataPathStats").Last().Property("Details")!, f.T.PortOut);
        Traffic.Flood(Lab, f.T.Inside, BridgeTopology.OutsideV4, 1000);
        Traffic.Flood(Lab, f.T.Inside, BridgeTopology.OutsideV6, 1000);
        var inAfter = f.Daemon.FreshCounters(f.T.PortIn);
        var outAfter = DaemonProcess.ParseCounters(f.Daemon.EventsNamed("DataPathStats").Last().Property("Details")!, f.T.PortOut);

        Assert.True(inAfter["accepted"] - inBefore["accepted"] >= 2000);
        Assert.True(inAfter["thread_alloc"] > 0, "the reader thread's allocations were never sampled");
        Assert.Equal(inBefore["thread_alloc"], inAfter["thread_alloc"]);
        Assert.Equal(outBefore["thread_alloc"], outAfter["thread_alloc"]);
    }

    internal static string Ip(bool v6, string src, string dst) => v6 ? $"IPv6(src='{src}', dst='{dst}')" : $"IP(src='{src}', dst='{dst}')";
}
