using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// How the bridge sends accepted frames: through each NIC's AF_PACKET transmit ring (default, one send() per batch
/// read, optionally bypassing the qdisc; a batch of one frame as a copy through a plain socket unless
/// TxRingCopySingle is false) or through pcap_inject (TxRing false, one send() per frame). Each way must carry real
/// traffic in both directions.
/// </summary>
[Collection("DataPaths")]
public sealed class BridgeTransmitTests
{
    private static DaemonProcess StartBridge(BridgeTopology t, JsonObject transmit)
    {
        var bridge = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 };
        foreach (var (key, value) in transmit) bridge[key] = value?.DeepClone();
        return DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(
            new JsonObject { ["Mode"] = "Bridge", ["StatsIntervalSeconds"] = 1, ["Bridge"] = bridge }, "DROP", DaemonConfig.SeedRules(t.PortIn)));
    }

    [Theory]
    [InlineData("pcap_inject", false, false, true)]
    [InlineData("ring", true, false, true)]
    [InlineData("ring_qdisc_bypass", true, true, true)]
    [InlineData("ring_only", true, false, false)]
    public void EachTransmitWay_CarriesPingTcpAndBulkBothWays(string way, bool txRing, bool qdiscBypass, bool copySingle)
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, new JsonObject { ["TxRing"] = txRing, ["QdiscBypass"] = qdiscBypass, ["TxRingCopySingle"] = copySingle });
        Traffic.StartServers(t.Lab, t.Outside, 80, 22, "banner-outside");

        Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4));
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV6));
        Assert.Equal("200", Traffic.Http(t.Lab, t.Inside, BridgeTopology.OutsideV4, 80).Status);
        Assert.Equal("banner-outside", Traffic.TcpBanner(t.Lab, t.Inside, BridgeTopology.OutsideV6, 22));
        double bps = Traffic.Iperf3(t.Lab, t.Inside, t.Outside, BridgeTopology.OutsideV4, 5201);
        Assert.True(bps > 50e6, $"{way}: iperf3 through the bridge gave {bps / 1e6:F1} Mbit/s");

        var counters = daemon.FreshCounters(t.PortIn);
        Assert.True(counters["out"] > 1000, $"{way}: frames sent out of {t.PortIn}: {counters["out"]}");
        Assert.Equal(0, counters["inject_errors"]);
        if (txRing) Assert.InRange(counters["out_batches"], 1, counters["out"]);
        else Assert.Equal(0, counters["out_batches"]);
        // the echo replies came one at a time: batches of one, sent as copies where that is on
        if (txRing && copySingle) Assert.InRange(counters["out_single_copies"], 3, counters["out_batches"]);
        else Assert.Equal(0, counters["out_single_copies"]);
    }

    /// <summary>A flood is read in batches, and each batch leaves through one send(): fewer sends than frames.</summary>
    [Fact]
    public void TxRing_UnderAFlood_SendsSeveralFramesPerSend()
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, new JsonObject { ["TxRing"] = true });
        Traffic.Flood(t.Lab, t.Inside, BridgeTopology.OutsideV4, 50); // conntrack entry and neighbours in place
        var server = t.Lab.StartBackground(t.Outside, "iperf3", "-s", "-1", "-p", "5202");
        try
        {
            Assert.True(t.Lab.WaitForListener(t.Outside, 5202), "iperf3 server did not start");
            var run = t.Lab.Run(t.Inside, TimeSpan.FromSeconds(20), "iperf3",
                ["-c", BridgeTopology.OutsideV4, "-p", "5202", "-u", "-l", "64", "-b", "0", "-t", "2", "--connect-timeout", "3000"], input: null);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        }
        finally
        {
            server.Kill();
        }
        var outside = daemon.FreshCounters(t.PortOut); // frames leaving through the outside port are counted there
        Assert.True(outside["out"] > 10_000, $"only {outside["out"]} frames went out");
        Assert.True(outside["out_batches"] * 2 < outside["out"],
            $"{outside["out"]} frames in {outside["out_batches"]} sends: no batching under a flood");
    }
}
