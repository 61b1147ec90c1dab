using System.Text;
using Xunit.Abstractions;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// Differential test of the conntrack engine against the running Linux kernel: for each scenario, traffic crosses
/// the lab router, whose FORWARD chain logs every packet with the kernel's conntrack state; the capture is then
/// replayed through a fresh engine configured like the router, and every packet must get the same state.
/// Needs root, iproute2, iptables, tcpdump, ethtool, conntrack, socat, curl, ping and /usr/bin/python3 with scapy.
/// Each capture is also run through fwctl replay (its JSON lines) and compared with the kernel packet by packet.
/// Results: one summary line per scenario in the test output and in &lt;output dir&gt;/differential/summary.txt;
/// the capture (&lt;scenario&gt;.pcap) and the full trace (&lt;scenario&gt;.txt) next to it.
/// </summary>
public sealed class DifferentialTests(DiffLab lab, ITestOutputHelper output) : IClassFixture<DiffLab>
{
    public static TheoryData<string> Scenarios => new(DiffScenarios.All.Select(s => s.Name));

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void EngineClassifiesEveryPacketLikeTheKernel(string scenario)
    {
        var s = DiffScenarios.Get(scenario);
        output.WriteLine(DiffScenarios.Describe(s));
        var capture = lab.Run(s);
        var result = KernelReplay.Run(s.Name, capture.PcapPath, s.EngineOptions(), capture.RuleFiles);

        var problems = new List<string>();
        if (capture.Stats.DroppedByKernel != 0)
            problems.Add($"tcpdump reports {capture.Stats.DroppedByKernel} packets dropped by the kernel: the capture is incomplete ({capture.Stats.Report}).");
        if (capture.KernelLogged != result.Packets.Count)
            problems.Add($"the router's NFLOG rules logged {capture.KernelLogged} packets but the capture holds {result.Packets.Count}: NFLOG lost packets.");
        if (capture.Stats.Captured != result.Packets.Count)
            problems.Add($"tcpdump captured {capture.Stats.Captured} packets but the file holds {result.Packets.Count}.");
        if (capture.ExpectedPackets is int expected && expected != result.Packets.Count)
            problems.Add($"expected {expected} packets to cross the router, the kernel logged {result.Packets.Count}.");
        if (result.Packets.Count == 0)
            problems.Add("the capture is empty.");
        // the same capture through fwctl replay (the user's tool) must agree with the kernel too
        foreach (var p in FwctlReplayCheck.Compare(s.Name, capture.PcapPath, s.EngineOptions(), capture.RuleFiles, result.Packets))
            problems.Add("fwctl replay: " + p);
        int related = result.Packets.Count(v => v.Kernel == "RELATED");
        if (related < s.MinKernelRelated)
            problems.Add($"the kernel classified {related} packets RELATED, the scenario needs at least {s.MinKernelRelated}: its helpers did not work in the lab.");

        string? note = capture.ExpectedPackets is int e2 && e2 != result.Packets.Count ? $"capture has {result.Packets.Count}, expected {e2}" : null;
        string summary = result.SummaryLine(note);
        output.WriteLine(summary);
        output.WriteLine(result.Trace());
        File.AppendAllText(lab.SummaryPath, summary + "\n");
        File.WriteAllText(Path.Combine(lab.OutputDirectory, s.Name + ".txt"), DiffScenarios.Describe(s) + "\n" + summary + "\n" + result.Trace());

        var dis = result.Disagreements;
        if (dis.Count == 0 && problems.Count == 0) return;
        var msg = new StringBuilder();
        msg.Append(DiffScenarios.Describe(s)).Append('\n').Append(summary).Append('\n');
        foreach (var p in problems) msg.Append("LAB: ").Append(p).Append('\n');
        if (dis.Count > 0)
        {
            msg.Append("Disagreements (index, time, kernel state, engine state (reason) [engine TCP state], packet):\n");
            foreach (var v in dis) msg.Append("  ").Append(v).Append('\n');
        }
        msg.Append("Capture: ").Append(capture.PcapPath);
        Assert.Fail(msg.ToString());
    }
}

/// <summary>The C# catalogue and diff_scenarios.py must name the same crafted scenarios (needs /usr/bin/python3 with scapy, not root).</summary>
public sealed class DiffScenarioCatalogueTests
{
    [Fact]
    public void CatalogueListsEveryCraftedScenarioOfTheDriver()
    {
        Lab.NetLab.RequireScapy();
        var driver = DiffLab.CraftedScenarioNames(DiffLab.DefaultScriptPath).Order().ToList();
        var catalogue = DiffScenarios.All.Concat(DiffScenarios.EngineOnly).Where(s => s.IsCrafted).Select(s => s.Name).Order().ToList();
        Assert.Equal(driver, catalogue);
    }

    [Fact]
    public void EveryScenarioSysctlMapsToAnEngineOption()
    {
        foreach (var s in DiffScenarios.All)
            Assert.NotNull(s.EngineOptions());
        Assert.False(DiffScenarios.Get("tcp_ack_pickup_loose_off").EngineOptions().TcpLoose);
        Assert.Equal(3, DiffScenarios.Get("udp_expiry").EngineOptions().Timeouts.Udp);
    }
}
