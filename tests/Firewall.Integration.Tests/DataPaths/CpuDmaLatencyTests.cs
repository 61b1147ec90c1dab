using System.Text.Json.Nodes;
using Firewall.Native.Power;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>Firewall:DataPath:CpuDmaLatencyUs: the daemon holds the PM QoS request while it runs and lets go at stop.</summary>
[Collection("DataPaths")]
public sealed class CpuDmaLatencyTests
{
    [Fact]
    public void Daemon_HoldsTheRequestWhileRunning_AndReleasesItAtStop()
    {
        int before = CpuLatencyRequest.ReadCurrent();
        Assert.True(before > 9, $"another process already holds {CpuLatencyRequest.DevicePath} at {before} µs; cannot observe the daemon's");
        using var t = BridgeTopology.Create();
        using (var daemon = DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(
                   new JsonObject
                   {
                       ["Mode"] = "Bridge",
                       ["CpuDmaLatencyUs"] = 9,
                       ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 },
                   }, "DROP", DaemonConfig.SeedRules(t.PortIn))))
        {
            Assert.Equal(9, CpuLatencyRequest.ReadCurrent());
            var held = daemon.EventsNamed("CpuLatencyHeld").Single();
            Assert.Equal("9", held.Property("Microseconds"));
            Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4));
            Assert.Equal(0, daemon.Stop());
        }
        Assert.Equal(before, CpuLatencyRequest.ReadCurrent());
    }
}
