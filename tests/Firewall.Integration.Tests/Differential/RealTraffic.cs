using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// Real-program scenarios. Servers start before the capture (their setup is not recorded) and stop after it;
/// every program runs pinned to CPU 0 (taskset) so the router handles packets in the order they were sent.
/// The number of packets is up to the kernels, so these captures have no expected count.
/// </summary>
internal static class RealTraffic
{
    public static ScenarioCapture Http(DiffLab lab, bool v6)
    {
        var t = lab.Topology;
        string dir = Path.Combine(lab.OutputDirectory, "www");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "small.txt"), "hello from the server\n");
        var big = new byte[200_000];
        new Random(42).NextBytes(big);
        File.WriteAllBytes(Path.Combine(dir, "big.bin"), big);

        string addr = v6 ? RoutedTopology.ServerV6 : RoutedTopology.ServerV4;
        const int port = 8080;
        using var server = lab.StartPinned(t.Server, NetLab.SystemPython, "-m", "http.server", port.ToString(), "--bind", addr, "--directory", dir);
        lab.WaitForListener(t.Server, port, server);
        string host = v6 ? $"[{addr}]" : addr;
        return lab.Captured(() =>
        {
            foreach (var file in new[] { "small.txt", "big.bin" })
                lab.RunPinned(t.Client, "curl", ["-g", "-sS", "--fail", "--max-time", "10", "-o", "/dev/null", $"http://{host}:{port}/{file}"]);
            Thread.Sleep(300); // let the closing handshake finish
        });
    }

    public static ScenarioCapture SocatTcp(DiffLab lab)
    {
        var t = lab.Topology;
        const int port = 9001;
        using var server4 = lab.StartPinned(t.Server, "socat", "-T", "5", $"TCP4-LISTEN:{port},bind={RoutedTopology.ServerV4},reuseaddr", "PIPE");
        using var server6 = lab.StartPinned(t.Server, "socat", "-T", "5", $"TCP6-LISTEN:{port},bind=[{RoutedTopology.ServerV6}],reuseaddr", "PIPE");
        lab.WaitForListener(t.Server, port, server4);
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
        lab.WaitForListener(t.Server, port, server4, udp: true);
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
