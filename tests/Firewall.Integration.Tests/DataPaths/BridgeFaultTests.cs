using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>Faults on a bridged NIC and the daemon's shutdown, each with its own lab and daemon.</summary>
[Collection("DataPaths")]
public sealed class BridgeFaultTests
{
    private static DaemonProcess StartBridge(BridgeTopology t, int busyPollUs = 0) => DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(
        new JsonObject
        {
            ["Mode"] = "Bridge",
            ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4, ["BusyPollUs"] = busyPollUs },
        },
        "DROP", DaemonConfig.SeedRules(t.PortIn)));

    /// <summary>With busyPollUs 200000 (longer than the 100 ms between pings) one reader spins through the fault, reading both NICs.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(200_000)]
    public void LinkDownUp_OnABridgePort_WhileTrafficFlows_TrafficResumes(int busyPollUs)
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, busyPollUs);
        Traffic.StartServers(t.Lab, t.Outside, 80, 22, "banner-outside");
        // 60 pings at 10/s from the inside; the outside port goes down for ~1.5 s in the middle.
        var ping = t.Lab.StartBackground(t.Inside, "ping", "-4", "-n", "-c", "60", "-i", "0.1", "-W", "1", BridgeTopology.OutsideV4);
        Thread.Sleep(1500);
        t.Lab.Run(t.Bridge, "ip", "link", "set", t.PortOut, "down").ThrowIfFailed();
        // its own reader sees the link go down (InterfaceDown), or meets the read error first (ReaderFailed, then a restart)
        Assert.True(NetLab.WaitUntil(() => daemon.Events.Any(e => e.Event is "InterfaceDown" or "ReaderFailed"), TimeSpan.FromSeconds(5),
            TimeSpan.FromMilliseconds(50)), "no InterfaceDown or ReaderFailed line:\n" + daemon.Output);
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

    [Theory]
    [InlineData(0)]
    [InlineData(200_000)]
    public void DaemonStop_EndsWithinASecond_EvenWhileTrafficFlows(int busyPollUs)
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, busyPollUs);
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
