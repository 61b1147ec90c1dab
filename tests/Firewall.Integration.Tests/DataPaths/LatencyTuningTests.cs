using System.Text.Json.Nodes;
using Firewall.Native.Power;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// The latency options: Firewall:DataPath:CpuDmaLatencyUs (the daemon holds the PM QoS request while it runs and lets go
/// at stop) and RealtimePriority (every reader thread runs SCHED_FIFO at that priority).
/// </summary>
[Collection("DataPaths")]
public sealed class LatencyTuningTests
{
    [Fact]
    public void Daemon_HoldsTheRequestAndRunsReadersRealtime_AndReleasesTheRequestAtStop()
    {
        int before = CpuLatencyRequest.ReadCurrent();
        Assert.True(before > 9, $"another process already holds {CpuLatencyRequest.DevicePath} at {before} µs; cannot observe the daemon's");
        using var t = BridgeTopology.Create();
        using (var daemon = DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(
                   new JsonObject
                   {
                       ["Mode"] = "Bridge",
                       ["CpuDmaLatencyUs"] = 9,
                       ["RealtimePriority"] = 10,
                       ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 },
                   }, "DROP", DaemonConfig.SeedRules(t.PortIn))))
        {
            Assert.Equal(9, CpuLatencyRequest.ReadCurrent());
            var held = daemon.EventsNamed("CpuLatencyHeld").Single();
            Assert.Equal("9", held.Property("Microseconds"));
            Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4));

            // both bridge readers run SCHED_FIFO 10; the daemon's other threads keep normal scheduling
            var threads = Directory.GetDirectories($"/proc/{daemon.Pid}/task")
                .Select(d => (Comm: File.ReadAllText(Path.Combine(d, "comm")).Trim(), Stat: SchedStat(Path.Combine(d, "stat"))))
                .ToList();
            var readers = threads.Where(x => x.Comm.StartsWith("reader ", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, readers.Count);
            Assert.All(readers, r => Assert.Equal((Priority: 10, Policy: 1), r.Stat)); // SCHED_FIFO = 1
            Assert.All(threads.Except(readers), x => Assert.Equal(0, x.Stat.Policy));
            Assert.Equal(2, daemon.EventsNamed("ReaderRealtime").Count());
            Assert.Equal(0, daemon.Stop());
        }
        Assert.Equal(before, CpuLatencyRequest.ReadCurrent());
    }

    /// <summary>rt_priority and policy: fields 40 and 41 of /proc/PID/task/TID/stat (counted after the command name's closing parenthesis).</summary>
    private static (int Priority, int Policy) SchedStat(string path)
    {
        string stat = File.ReadAllText(path);
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // f[0] is field 3 (state): field N is f[N - 3]
        return (int.Parse(f[40 - 3], System.Globalization.CultureInfo.InvariantCulture), int.Parse(f[41 - 3], System.Globalization.CultureInfo.InvariantCulture));
    }
}
