using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>Faults on a bridged NIC and the daemon's shutdown, each with its own lab and daemon.</summary>
[Collection("DataPaths")]
public sealed class BridgeFaultTests
{
    private static DaemonProcess StartBridge(BridgeTopology t) => DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(
        new JsonObject { ["Mode"] = "Bridge", ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 } },
        "DROP", DaemonConfig.SeedRules(t.PortIn)));

    [Fact]
    public void LinkDownUp_OnABridgePort_WhileTrafficFlows_TrafficResumes()
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t);
        Traffic.StartServers(t.Lab, t.Outside, 80, 22, "banner-outside");
        // 60 pings at 10/s from the inside; the outside port goes down for ~1.5 s in the middle.
        var ping = t.Lab.StartBackground(t.Inside, "ping", "-4", "-n", "-c", "60", "-i", "0.1", "-W", "1", BridgeTopology.OutsideV4);
        Thread.Sleep(1500);
        t.Lab.Run(t.Bridge, "ip", "link", "set", t.PortOut, "down").ThrowIfFailed();
        daemon.WaitForEvent("InterfaceDown", timeout: TimeSpan.FromSeconds(5));
        Thread.Sleep(500);
        t.Lab.Run(t.Bridge, "ip", "link", "set", t.PortOut, "up").ThrowIfFailed();
        daemon.WaitForEvent("InterfaceReopened", timeout: TimeSpan.FromSeconds(10));
        Assert.True(ping.WaitForExit(TimeSpan.FromSeconds(20)), "ping did not finish");

        var replies = ping.Stdout.Split('\n').Where(l => l.Contains("bytes from", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split("icmp_seq=")[1].Split(' ')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(replies, s => s <= 10);                // before the fault
        Assert.True(replies.Count(s => s >= 50) >= 9, string.Join(",", replies)); // after it: the last 10 answered
        Assert.True(replies.Count < 60, "the outage lost nothing: was the port really down?");
        Assert.Equal("200", Traffic.Http(t.Lab, t.Inside, BridgeTopology.OutsideV4, 80).Status); // new connections too
    }

    [Fact]
    public void DaemonStop_EndsWithinASecond_EvenWhileTrafficFlows()
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t);
        var ping = t.Lab.StartBackground(t.Inside, "ping", "-4", "-n", "-i", "0.01", BridgeTopology.OutsideV4);
        Thread.Sleep(1000);
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, daemon.Stop());
        clock.Stop();
        ping.Kill();
        var stopped = daemon.EventsNamed("DataPathStopped").Single();
        Assert.True(DaemonProcess.ParseCounters(stopped.Property("Details")!, t.PortIn)["accepted"] > 10);
        // SIGTERM to process exit, including the .NET host's own shutdown: the readers themselves stop at once.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"stop took {clock.Elapsed}");
    }

    [Fact]
    public void MissingInterface_FailsStartWithTheKeyNamed()
    {
        using var t = BridgeTopology.Create();
        var config = DaemonConfig.Create(
            new JsonObject { ["Mode"] = "Bridge", ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, "nosuchnic0") } },
            "DROP", DaemonConfig.SeedRules(t.PortIn));
        var (exit, output) = DaemonProcess.RunExpectingFailure(t.Lab, t.Bridge, config);
        Assert.NotEqual(0, exit);
        Assert.Contains("Firewall:DataPath:Bridge:Interfaces: interface nosuchnic0 does not exist", output);
    }
}
