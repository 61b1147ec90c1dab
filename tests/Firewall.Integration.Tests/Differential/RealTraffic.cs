using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// Real-program scenarios. Servers start before the capture (their setup is not recorded) and stop after it;
/// every program runs pinned to CPU 0 (taskset) so the router handles packets in the order they were sent.
/// The number of packets is up to the kernels, so these captures have no expected count.
/// </summary>
internal static class RealTraffic
{
    private const int HttpPort = 8080;

    public static ScenarioCapture Http(DiffLab lab, bool v6)
    {
        using var server = StartHttpServer(lab, v6);
        return lab.Captured(() =>
        {
            Download(lab, v6, "small.txt");
            Download(lab, v6, "big.bin");
            Thread.Sleep(300); // let the closing handshake finish
        });
    }

    /// <summary>
    /// Downloads over IPv4 and IPv6 while some packets are dropped at the endpoints: server segments before they reach
    /// the router (never logged), server segments after it (logged, then lost: retransmissions cross the router again)
    /// and client ACKs/requests before the router.
    /// </summary>
    public static ScenarioCapture LossyHttp(DiffLab lab)
    {
        var t = lab.Topology;
        string sport = HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] Nth(string every, string packet) => ["-m", "statistic", "--mode", "nth", "--every", every, "--packet", packet, "-j", "DROP"];
        var rules = new List<(string Ns, string Tool, string[] Rule)>();
        foreach (var tool in new[] { NetLab.Iptables, NetLab.Ip6tables })
        {
            rules.Add((t.Server, tool, ["OUTPUT", "-p", "tcp", "--sport", sport, .. Nth("17", "5")]));
            rules.Add((t.Client, tool, ["INPUT", "-p", "tcp", "--sport", sport, .. Nth("13", "3")]));
            rules.Add((t.Client, tool, ["OUTPUT", "-p", "tcp", "--dport", sport, .. Nth("7", "2")]));
        }
        using var server4 = StartHttpServer(lab, v6: false);
        using var server6 = StartHttpServer(lab, v6: true);
        var added = new List<(string Ns, string Tool, string[] Rule)>();
        try
        {
            foreach (var r in rules)
            {
                lab.Lab.Run(r.Ns, r.Tool, ["-A", .. r.Rule]).ThrowIfFailed();
                added.Add(r);
            }
            return lab.Captured(() =>
            {
                Download(lab, v6: false, "big.bin");
                Download(lab, v6: true, "big.bin");
                Thread.Sleep(500);
            });
        }
        finally
        {
            foreach (var r in added) lab.Lab.Run(r.Ns, r.Tool, ["-D", .. r.Rule]);
        }
    }

    /// <summary>python3 -m http.server on the server's v4 or v6 address, serving small.txt and a 200 KB big.bin; waits until it listens.</summary>
    private static LabProcess StartHttpServer(DiffLab lab, bool v6)
    {
        var t = lab.Topology;
        string dir = Path.Combine(lab.OutputDirectory, "www");
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "small.txt"), "hello from the server\n");
            var big = new byte[200_000];
            new Random(42).NextBytes(big);
            File.WriteAllBytes(Path.Combine(dir, "big.bin"), big);
        }
        string addr = v6 ? RoutedTopology.ServerV6 : RoutedTopology.ServerV4;
        var server = lab.StartPinned(t.Server, NetLab.SystemPython, "-m", "http.server", HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", addr, "--directory", dir);
        try
        {
            lab.WaitForListener(t.Server, addr, HttpPort, server);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private static void Download(DiffLab lab, bool v6, string file)
    {
        string host = v6 ? $"[{RoutedTopology.ServerV6}]" : RoutedTopology.ServerV4;
        lab.RunPinned(lab.Topology.Client, "curl", ["-g", "-sS", "--fail", "--max-time", "20", "-o", "/dev/null", $"http://{host}:{HttpPort}/{file}"]);
    }

    public static ScenarioCapture SocatTcp(DiffLab lab)
    {
        var t = lab.Topology;
        const int port = 9001;
        using var server4 = lab.StartPinned(t.Server, "socat", "-T", "5", $"TCP4-LISTEN:{port},bind={RoutedTopology.ServerV4},reuseaddr", "PIPE");
        using var server6 = lab.StartPinned(t.Server, "socat", "-T", "5", $"TCP6-LISTEN:{port},bind=[{RoutedTopology.ServerV6}],reuseaddr", "PIPE");
        lab.WaitForListener(t.Server, RoutedTopology.ServerV4, port, server4);
        lab.WaitForListener(t.Server, RoutedTopology.ServerV6, port, server6);
        return lab.Captured(() =>
        {
            // socat sends stdin, half-closes (FIN) at EOF, prints the echo and exits when the server closes.
            lab.RunPinned(t.Client, "socat", ["-t", "2", "-", $"TCP4:{RoutedTopology.ServerV4}:{port}"], input: "hello over tcp\n");
            lab.RunPinned(t.Client, "socat", ["-t", "2", "-", $"TCP6:[{RoutedTopology.ServerV6}]:{port}"], input: "hello over tcp6\n");
            Thread.Sleep(300);
        });
    }

    public static ScenarioCapture SocatUdp(DiffLab lab)
    {
        var t = lab.Topology;
        const int port = 9002;
        using var server4 = lab.StartPinned(t.Server, "socat", "-T", "5", $"UDP4-LISTEN:{port},bind={RoutedTopology.ServerV4},reuseaddr", "PIPE");
        using var server6 = lab.StartPinned(t.Server, "socat", "-T", "5", $"UDP6-LISTEN:{port},bind=[{RoutedTopology.ServerV6}],reuseaddr", "PIPE");
        lab.WaitForListener(t.Server, RoutedTopology.ServerV4, port, server4, udp: true);
        lab.WaitForListener(t.Server, RoutedTopology.ServerV6, port, server6, udp: true);
        return lab.Captured(() =>
        {
            lab.RunPinned(t.Client, "socat", ["-t", "0.5", "-", $"UDP4:{RoutedTopology.ServerV4}:{port}"], input: "hello over udp\n");
            lab.RunPinned(t.Client, "socat", ["-t", "0.5", "-", $"UDP6:[{RoutedTopology.ServerV6}]:{port}"], input: "hello over udp6\n");
        });
    }

    public static ScenarioCapture Ping(DiffLab lab)
    {
        var t = lab.Topology;
        return lab.Captured(() =>
        {
            lab.RunPinned(t.Client, "ping", ["-n", "-c", "3", "-i", "0.2", "-W", "2", RoutedTopology.ServerV4]);
            lab.RunPinned(t.Client, "ping", ["-6", "-n", "-c", "3", "-i", "0.2", "-W", "2", RoutedTopology.ServerV6]);
            lab.RunPinned(t.Client, "ping", ["-n", "-c", "2", "-i", "0.2", "-s", "3000", "-W", "2", RoutedTopology.ServerV4]); // fragmented, reassembled by the router
            lab.RunPinned(t.Server, "ping", ["-n", "-c", "2", "-i", "0.2", "-s", "1200", "-W", "2", RoutedTopology.ClientV4]);
        });
    }

    public static ScenarioCapture ClosedPorts(DiffLab lab)
    {
        var t = lab.Topology;
        return lab.Captured(() =>
        {
            // curl fails here on purpose (connection refused): only the traffic matters.
            lab.RunPinned(t.Client, "curl", ["-sS", "--max-time", "3", $"http://{RoutedTopology.ServerV4}:9/"], mayFail: true);
            lab.RunPinned(t.Client, "curl", ["-g", "-sS", "--max-time", "3", $"http://[{RoutedTopology.ServerV6}]:9/"], mayFail: true);
            lab.RunPinned(t.Client, "socat", ["-t", "0.3", "-", $"UDP4:{RoutedTopology.ServerV4}:9"], input: "anyone?\n", mayFail: true);
            lab.RunPinned(t.Client, "socat", ["-t", "0.3", "-", $"UDP6:[{RoutedTopology.ServerV6}]:9"], input: "anyone6?\n", mayFail: true);
        });
    }
}
