using System.Globalization;
using System.Text.Json;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// One scenario's capture: the NFLOG pcap, tcpdump's counters, the number of packets the kernel logged (the NFLOG
/// rules' packet counters) and, for crafted scenarios, how many packets the driver says must cross the router.
/// </summary>
/// <param name="RuleFiles">The router's raw table during the capture (iptables-save / ip6tables-save output), when the
/// scenario added raw rules; the engine loads the same files.</param>
public sealed record ScenarioCapture(string PcapPath, CaptureStats Stats, long KernelLogged, int? ExpectedPackets, IReadOnlyList<string> RuleFiles);

/// <summary>
/// The differential lab, shared by all scenarios of a test run (xunit class fixture): a <see cref="RoutedTopology"/>
/// whose router logs every forwarded packet to NFLOG with its conntrack state as the prefix
/// (FORWARD: one NFLOG rule per state, then ACCEPT, for iptables and ip6tables), and whose endpoints silently drop
/// crafted packets (TTL / hop limit <see cref="SilentTtlAtEndpoint"/>) so their kernels never answer them.
/// Before each scenario the router's conntrack table is flushed, so every scenario starts from an empty table
/// exactly as the engine does.
/// </summary>
public sealed class DiffLab : IDisposable
{
    public const int NflogGroup = 7;
    /// <summary>diff_scenarios.py sends "silent" packets with TTL 100; after the router's hop they carry 99.</summary>
    public const int SilentTtlAtEndpoint = 99;
    public static readonly string[] States = ["INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED"];
    /// <summary>Client-link addresses no namespace owns: crafted packets use them as further client sources (e.g. GRE,
    /// whose tuple has no ports); the router has permanent neighbour entries for them so it never resolves them.</summary>
    public const string ClientV4Spare = "198.18.1.4";
    public const string ClientV6Spare = "2001:db8:1::4";

    private static readonly TimeSpan CraftedTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(15);
    private readonly string _configJson;
    private string? _current;
    private IReadOnlyList<string> _ruleFiles = [];
    private ScenarioCapture? _capture;

    public RoutedTopology Topology { get; }
    public NetLab Lab => Topology.Lab;
    /// <summary>Where captures, traces and summary.txt go: &lt;test output dir&gt;/differential.</summary>
    public string OutputDirectory { get; }
    public string ScriptPath { get; }
    /// <summary>diff_scenarios.py as copied next to the test assembly.</summary>
    public static string DefaultScriptPath => Path.Combine(AppContext.BaseDirectory, "Differential", "diff_scenarios.py");
    public string SummaryPath => Path.Combine(OutputDirectory, "summary.txt");

    public DiffLab()
    {
        NetLab.RequireRoot();
        NetLab.RequireTools("ip", "tcpdump", "ethtool", "sysctl", "ss", "taskset", "conntrack", "curl", "socat", "ping",
            "vsftpd", "lftp", "in.tftpd", "tftp");
        _ = NetLab.Iptables;
        _ = NetLab.Ip6tables;
        NetLab.RequireScapy();
        ScriptPath = DefaultScriptPath;
        if (!File.Exists(ScriptPath)) throw new InvalidOperationException($"Scenario driver {ScriptPath} is missing from the test output.");

        OutputDirectory = Path.Combine(AppContext.BaseDirectory, "differential");
        if (Directory.Exists(OutputDirectory)) Directory.Delete(OutputDirectory, recursive: true);
        Directory.CreateDirectory(OutputDirectory);

        Topology = RoutedTopology.Create();
        try
        {
            Configure();
        }
        catch
        {
            Topology.Dispose();
            throw;
        }
        _configJson = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["clientNs"] = Topology.Client,
            ["serverNs"] = Topology.Server,
            ["clientLink"] = Topology.ClientLink,
            ["serverLink"] = Topology.ServerLink,
            ["clientMac"] = RoutedTopology.ClientMac,
            ["serverMac"] = RoutedTopology.ServerMac,
            ["routerClientMac"] = RoutedTopology.RouterClientMac,
            ["routerServerMac"] = RoutedTopology.RouterServerMac,
            ["clientV4"] = RoutedTopology.ClientV4,
            ["clientV4Alt"] = RoutedTopology.ClientV4Alt,
            ["clientV4Spare"] = ClientV4Spare,
            ["clientV6Spare"] = ClientV6Spare,
            ["serverV4"] = RoutedTopology.ServerV4,
            ["clientV6"] = RoutedTopology.ClientV6,
            ["serverV6"] = RoutedTopology.ServerV6,
            ["routerClientV4"] = RoutedTopology.RouterClientV4,
            ["routerClientV6"] = RoutedTopology.RouterClientV6,
        });
    }

    private void Configure()
    {
        string r = Topology.Router;
        string ttl = SilentTtlAtEndpoint.ToString(CultureInfo.InvariantCulture);
        foreach (var (tool, family) in new[] { (NetLab.Iptables, 4), (NetLab.Ip6tables, 6) })
        {
            foreach (var state in States)
                Lab.Run(r, tool, "-A", "FORWARD", "-m", "conntrack", "--ctstate", state,
                    "-j", "NFLOG", "--nflog-group", NflogGroup.ToString(CultureInfo.InvariantCulture),
                    "--nflog-prefix", state, "--nflog-threshold", "1").ThrowIfFailed();
            Lab.Run(r, tool, "-A", "FORWARD", "-j", "ACCEPT").ThrowIfFailed();
            foreach (var ns in new[] { Topology.Client, Topology.Server })
            {
                string[] match = family == 4 ? ["-m", "ttl", "--ttl-eq", ttl] : ["-m", "hl", "--hl-eq", ttl];
                Lab.Run(ns, tool, ["-t", "raw", "-A", "PREROUTING", .. match, "-j", "DROP"]).ThrowIfFailed();
            }
        }
        foreach (var spare in new[] { ClientV4Spare, ClientV6Spare })
            Lab.AddNeighbor(r, Topology.RouterClientLink, spare, RoutedTopology.ClientMac);
        foreach (var ns in new[] { Topology.Client, Topology.Server })
        {
            // several scenarios provoke ICMP errors in a row: no rate limiting
            Lab.SetSysctl(ns, "net.ipv4.icmp_ratelimit", "0");
            Lab.SetSysctl(ns, "net.ipv6.icmp.ratelimit", "0");
        }
    }

    /// <summary>Runs one scenario from an empty router table and returns its capture (saved as &lt;name&gt;.pcap).</summary>
    public ScenarioCapture Run(DiffScenario scenario)
    {
        string r = Topology.Router;
        Lab.Run(r, "conntrack", "-F").ThrowIfFailed();
        Lab.Run(r, "conntrack", "-F", "expect").ThrowIfFailed();
        var saved = new Dictionary<string, string>();
        var added = new List<(string Tool, string[] Args)>();
        _current = scenario.Name;
        _capture = null;
        _ruleFiles = [];
        try
        {
            foreach (var (key, value) in scenario.RouterSysctls)
            {
                string path = DiffScenario.SysctlPath(key);
                saved[path] = Lab.GetSysctl(r, path);
                Lab.SetSysctl(r, path, value.ToString(CultureInfo.InvariantCulture));
            }
            if (scenario.RouterRawRules.Count > 0)
            {
                var files = new List<string>();
                foreach (var (tool, family) in new[] { (NetLab.Iptables, 4), (NetLab.Ip6tables, 6) })
                {
                    var rules = scenario.RouterRawRules.Where(x => x.AppliesTo(family)).ToList();
                    if (rules.Count == 0) continue;
                    foreach (var rule in rules)
                    {
                        Lab.Run(r, tool, ["-t", "raw", "-A", "PREROUTING", .. rule.Args]).ThrowIfFailed();
                        added.Add((tool, rule.Args));
                    }
                    // what the kernel really has, in the format fwctl reads
                    string file = Path.Combine(OutputDirectory, $"{scenario.Name}.raw.v{family}.rules");
                    File.WriteAllText(file, Lab.Run(r, tool + "-save", "-t", "raw").ThrowIfFailed().Stdout);
                    files.Add(file);
                }
                _ruleFiles = files;
            }
            var capture = scenario.Drive is null ? Captured(() => RunCrafted(scenario.Name)) : scenario.Drive(this);
            if (!ReferenceEquals(capture, _capture))
                throw new InvalidOperationException($"Scenario {scenario.Name} must return the capture made by {nameof(Captured)}.");
            return capture;
        }
        finally
        {
            foreach (var (tool, args) in added) Lab.Run(r, tool, ["-t", "raw", "-D", "PREROUTING", .. args]);
            foreach (var (path, value) in saved) Lab.SetSysctl(r, path, value);
            _current = null;
        }
    }

    /// <summary>Captures the router's NFLOG group while <paramref name="traffic"/> runs; it returns the expected packet count or null.</summary>
    public ScenarioCapture Captured(Func<int?> traffic)
    {
        if (_current is null) throw new InvalidOperationException($"{nameof(Captured)} is only valid inside {nameof(Run)}.");
        if (_capture is not null) throw new InvalidOperationException("A scenario captures once.");
        string pcap = Path.Combine(OutputDirectory, _current + ".pcap");
        foreach (var tool in new[] { NetLab.Iptables, NetLab.Ip6tables })
            Lab.Run(Topology.Router, tool, "-Z", "FORWARD").ThrowIfFailed();
        using var capture = NflogCapture.Start(Lab, Topology.Router, NflogGroup, pcap);
        int? expected = traffic();
        Thread.Sleep(150); // NFLOG delivery to tcpdump (threshold 1: immediate, but let the socket drain)
        var stats = capture.Stop();
        _capture = new ScenarioCapture(pcap, stats, LoggedByRules(), expected, _ruleFiles);
        return _capture;
    }

    /// <inheritdoc cref="Captured(Func{int?})"/>
    public ScenarioCapture Captured(Action traffic) => Captured(() => { traffic(); return null; });

    /// <summary>Packets the router's NFLOG rules logged since their counters were zeroed (IPv4 + IPv6).</summary>
    private long LoggedByRules()
    {
        long sum = 0;
        foreach (var tool in new[] { NetLab.Iptables, NetLab.Ip6tables })
        {
            var res = Lab.Run(Topology.Router, tool, "-L", "FORWARD", "-v", "-x", "-n").ThrowIfFailed();
            foreach (var line in res.Stdout.Split('\n'))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length > 2 && cols[2] == "NFLOG") sum += long.Parse(cols[0], CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    /// <summary>Runs a diff_scenarios.py function (pinned to CPU 0); returns the number of packets it says must cross the router.</summary>
    private int RunCrafted(string name)
    {
        var res = Lab.Run(Topology.Client, CraftedTimeout, "taskset", "-c", "0", NetLab.SystemPython, ScriptPath, _configJson, name);
        if (!res.Succeeded) throw new InvalidOperationException($"Crafted scenario {name} failed: {res}");
        var last = res.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"Crafted scenario {name} printed nothing: {res}");
        using var doc = JsonDocument.Parse(last);
        return doc.RootElement.GetProperty("expect").GetInt32();
    }

    /// <summary>The names diff_scenarios.py knows (its --list output).</summary>
    public static IReadOnlyList<string> CraftedScenarioNames(string scriptPath)
    {
        var res = NetLab.RunLocal(NetLab.SystemPython, [scriptPath, "--list"], TimeSpan.FromSeconds(30)).ThrowIfFailed();
        return res.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    // ---------------------------------------------------------------- helpers for real-program scenarios

    /// <summary>The client namespace, programs pinned to CPU 0.</summary>
    public LabHost ClientHost => new(Lab, Topology.Client, PinToCpu0: true);

    /// <summary>The server namespace, programs pinned to CPU 0.</summary>
    public LabHost ServerHost => new(Lab, Topology.Server, PinToCpu0: true);

    /// <summary>Starts a program in <paramref name="ns"/> pinned to CPU 0, in the background.</summary>
    public LabProcess StartPinned(string ns, string program, params string[] args) =>
        new LabHost(Lab, ns, PinToCpu0: true).Start(program, args);

    /// <summary>Runs a program in <paramref name="ns"/> pinned to CPU 0 (stdin = <paramref name="input"/>, then EOF); throws when it fails unless <paramref name="mayFail"/>.</summary>
    public CommandResult RunPinned(string ns, string program, string[] args, string? input = null, bool mayFail = false)
    {
        var res = new LabHost(Lab, ns, PinToCpu0: true).Run(ClientTimeout, program, args, input);
        if (!mayFail && !res.Succeeded) throw new InvalidOperationException($"Scenario {_current}: {res}");
        return res;
    }

    /// <summary>Waits until <paramref name="server"/> listens on <paramref name="address"/>:<paramref name="port"/>; fails with its output if it did not.</summary>
    public void WaitForListener(string ns, string address, int port, LabProcess server, bool udp = false) =>
        new LabHost(Lab, ns).WaitForListener(server, port, udp, address);

    public void Dispose() => Topology.Dispose();
}
