using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// deploy/bench-floor-bridge.c, the benchmark's userspace floor: it builds cleanly with the machine's C compiler and
/// bridges real traffic between the two ports in both directions, IPv4 and IPv6, filtering nothing (a NEW connection
/// from outside gets through, which the daemon's seed rules would drop). Nothing crosses before it runs.
/// </summary>
[Collection("DataPaths")]
public sealed class BenchFloorBridgeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fw-floor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Builds_AndBridgesEverythingBothWays_UntilStopped()
    {
        NetLab.RequireTools("cc");
        string binary = Path.Combine(_dir, "bench-floor-bridge");
        using var t = BridgeTopology.Create();
        CommandResult build = t.Lab.Run(t.Bridge, TimeSpan.FromSeconds(60), "cc", ["-O2", "-Wall", "-Werror", "-o", binary, RepoFiles.Get("deploy/bench-floor-bridge.c")], input: null);
        Assert.True(build.ExitCode == 0, $"cc failed: {build.Stdout}{build.Stderr}");

        Assert.Equal(0, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, count: 2));

        LabProcess floor = t.Lab.StartBackground(t.Bridge, binary, t.PortIn, t.PortOut, "50000");
        try
        {
            Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4));
            Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV6));
            Assert.Equal(3, Traffic.Ping(t.Lab, t.Outside, BridgeTopology.InsideV4));
            Traffic.StartServers(t.Lab, t.Inside, 80, 22, "banner-inside");
            Assert.Equal("200", Traffic.Http(t.Lab, t.Outside, BridgeTopology.InsideV4, 80).Status);
            // it sleeps in poll() after the spin window and wakes for the next frame
            Thread.Sleep(300);
            Assert.Equal(3, Traffic.Ping(t.Lab, t.Outside, BridgeTopology.InsideV6));
        }
        finally
        {
            floor.Kill();
        }
        Assert.Equal(0, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, count: 2));
    }
}
