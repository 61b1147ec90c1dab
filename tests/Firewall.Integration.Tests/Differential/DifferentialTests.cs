using System.Globalization;
using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Integration.Tests.Lab;
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

    /// <summary>
    /// Intended difference ("go beyond the kernel", see FtpHelper): PORT and EPRT commands split across two segments.
    /// The kernel's helper sees a partial match in the head and drops it (the server receives one segment fewer than
    /// the router logged) and does not parse the tail, so the data connection is NEW; the engine keeps the head, joins
    /// the tail and makes the data connection RELATED. Every other packet must still agree with the kernel, and fwctl
    /// replay must give the engine's answer.
    /// </summary>
    [Fact]
    public void SplitFtpCommand_KernelDropsIt_EngineJoinsItAndMakesTheDataConnectionRelated()
    {
        var s = DiffScenarios.Get("ftp_split_command");
        output.WriteLine(DiffScenarios.Describe(s));
        var control = new[] { (4, RoutedTopology.ClientV4, "41380"), (6, RoutedTopology.ClientV6, "41381") };
        var counters = control.Select(c => (Tool: c.Item1 == 4 ? NetLab.Iptables : NetLab.Ip6tables,
            Rule: new[] { "-p", "tcp", "-s", c.Item2, "--sport", c.Item3, "--dport", "21" })).ToList();
        // count what reaches the server of each control connection (before the endpoint's silent-packet DROP)
        foreach (var (tool, rule) in counters)
            lab.Lab.Run(lab.Topology.Server, tool, ["-t", "raw", "-I", "PREROUTING", "1", .. rule]).ThrowIfFailed();
        ScenarioCapture capture;
        long[] arrived;
        try
        {
            capture = lab.Run(s);
            arrived = counters.Select(c => long.Parse(lab.Lab.Run(lab.Topology.Server, c.Tool, "-t", "raw", "-L", "PREROUTING", "1", "-v", "-x", "-n")
                .ThrowIfFailed().Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture)).ToArray();
        }
        finally
        {
            foreach (var (tool, rule) in counters)
                lab.Lab.Run(lab.Topology.Server, tool, ["-t", "raw", "-D", "PREROUTING", .. rule]);
        }
        var result = KernelReplay.Run(s.Name, capture.PcapPath, s.EngineOptions(), capture.RuleFiles);
        output.WriteLine(result.Trace());
        File.WriteAllText(Path.Combine(lab.OutputDirectory, s.Name + ".txt"), DiffScenarios.Describe(s) + "\n" + result.Trace());
        Assert.Equal(capture.ExpectedPackets, result.Packets.Count);

        var dataSyns = result.Packets.Where(v => v.Packet.Contains(":20 > ", StringComparison.Ordinal) && v.Packet.Contains("[S]", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, dataSyns.Count);
        Assert.All(dataSyns, v => Assert.Equal("NEW", v.Kernel));
        Assert.All(dataSyns, v => Assert.Equal(CtState.Related, v.Engine));
        var others = result.Disagreements.Except(dataSyns).ToList();
        Assert.True(others.Count == 0, "other disagreements:\n" + string.Join("\n", others));
        Assert.DoesNotContain(result.Packets, v => v.EngineHelperDropped);

        // the kernel dropped exactly the head of each split command
        for (int i = 0; i < control.Length; i++)
        {
            string from = control[i].Item1 == 4 ? $"{control[i].Item2}:{control[i].Item3} > " : $"[{control[i].Item2}]:{control[i].Item3} > ";
            int logged = result.Packets.Count(v => v.Packet.Contains(from, StringComparison.Ordinal));
            Assert.True(arrived[i] == logged - 1, $"IPv{control[i].Item1}: the router logged {logged} client segments, the server received {arrived[i]}; the kernel should have dropped one (the head)");
        }
        var engineStates = result.Packets.Select(v => CtStateNames.Name(v.Engine)).ToList();
        Assert.Empty(FwctlReplayCheck.Compare(capture.PcapPath, s.EngineOptions(), capture.RuleFiles, engineStates, "engine"));
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
