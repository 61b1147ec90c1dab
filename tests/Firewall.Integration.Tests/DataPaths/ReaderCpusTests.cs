using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;
using Firewall.Native.Scheduling;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// Firewall:DataPath:ReaderCpus: reader i runs only on ReaderCpus[i % count] (what the kernel reports for its thread),
/// traffic still flows, and a CPU the process may not use stops start-up with the key named.
/// </summary>
[Collection("DataPaths")]
public sealed class ReaderCpusTests
{
    private static readonly IReadOnlyList<int> Allowed = CpuAffinity.Allowed();
    private static int Last => Allowed[^1];

    /// <summary>Thread name ("reader queue 6", …; the kernel keeps 15 characters) and Cpus_allowed_list of each reader thread.</summary>
    private static List<(string Name, string Cpus)> ReaderCpuLists(int pid)
    {
        var lists = new List<(string, string)>();
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            string name, line;
            try
            {
                name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                if (!name.StartsWith("reader ", StringComparison.Ordinal)) continue;
                line = File.ReadLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            }
            catch (IOException) { continue; } // a runtime thread that ended while we listed them (readers live on)
            lists.Add((name, line["Cpus_allowed_list:".Length..].Trim()));
        }
        return lists;
    }

    [Fact]
    public void Nfqueue_EachQueueReader_RunsOnlyOnItsCpu_AndTrafficFlows()
    {
        using var t = RoutedTopology.Create();
        JsonObject config = NfqueueConfig.Create(t, queueBypass: false, 6, 7);
        config["Firewall"]!["DataPath"]!["ReaderCpus"] = new JsonArray(Last, Allowed[0]);
        config["Firewall"]!["DataPath"]!["Nfqueue"]!["BusyPollUs"] = 50_000;
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, config);
        daemon.WaitForEvent("ReaderPinned", skip: 1); // both readers have started

        var lists = ReaderCpuLists(daemon.Pid).ToDictionary(l => l.Name, l => l.Cpus);
        Assert.Equal(Last.ToString(), lists.GetValueOrDefault("reader queue 6"));
        Assert.Equal(Allowed[0].ToString(), lists.GetValueOrDefault("reader queue 7"));
        var pinned = daemon.EventsNamed("ReaderPinned").ToDictionary(e => e.Property("Reader")!, e => e.Property("Cpu"));
        Assert.Equal(Last.ToString(), pinned.GetValueOrDefault("queue 6"));
        Assert.Equal(Allowed[0].ToString(), pinned.GetValueOrDefault("queue 7"));

        Assert.Equal(20, Traffic.Ping(t.Lab, t.Client, RoutedTopology.ServerV4, count: 20, interval: 0.01));
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Client, RoutedTopology.ServerV6));
        Assert.Equal(0, Traffic.Ping(t.Lab, t.Server, RoutedTopology.ClientV4, waitSeconds: 1));
    }

    [Fact]
    public void Bridge_OneCpuForBothReaders_BothRunOnlyThere_AndTrafficFlows()
    {
        using var t = BridgeTopology.Create();
        using var daemon = DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(new JsonObject
        {
            ["Mode"] = "Bridge",
            ["ReaderCpus"] = new JsonArray(Last),
            ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4, ["BusyPollUs"] = 50_000 },
        }, "DROP", DaemonConfig.SeedRules(t.PortIn)));
        daemon.WaitForEvent("ReaderPinned", skip: 1);

        var lists = ReaderCpuLists(daemon.Pid);
        Assert.Equal(2, lists.Count);
        Assert.All(lists, l => Assert.Equal(Last.ToString(), l.Cpus));
        Assert.Equal(2, daemon.EventsNamed("ReaderPinned").Count());

        Assert.Equal(20, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, count: 20, interval: 0.01));
        Assert.Equal(0, Traffic.Ping(t.Lab, t.Outside, BridgeTopology.InsideV4, waitSeconds: 1));
    }

    [Fact]
    public void ACpuTheProcessMayNotUse_StopsStartup_NamingTheKey()
    {
        int notAllowed = Last + 1; // within cpu_set_t (the machine would need 1024 CPUs for this to be allowed)
        Assert.True(notAllowed <= CpuAffinity.MaxCpu, $"this machine allows CPU {Last}; no CPU number is left that it does not allow");
        using var t = BridgeTopology.Create();
        var (exit, output) = DaemonProcess.RunExpectingFailure(t.Lab, t.Bridge, DaemonConfig.Create(new JsonObject
        {
            ["Mode"] = "Bridge",
            ["ReaderCpus"] = new JsonArray(Allowed[0], notAllowed),
            ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 },
        }, "DROP", DaemonConfig.SeedRules(t.PortIn)));
        Assert.NotEqual(0, exit);
        Assert.Contains($"Firewall:DataPath:ReaderCpus: CPU {notAllowed} is not one this process may run on", output);
    }
}
