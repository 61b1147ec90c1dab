using System.Globalization;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>Real programs as traffic: curl, socat, ping, iperf3, scapy, tcpdump — each run inside a namespace of a lab.</summary>
public static class Traffic
{
    public static string Url(string address, int port) =>
        address.Contains(':') ? $"http://[{address}]:{port}/" : $"http://{address}:{port}/";

    /// <summary>curl's HTTP status ("000" when nothing answered) and exit code (7 = refused, 28 = timed out);
    /// from <paramref name="source"/> when given (one of the host's addresses).</summary>
    public static (string Status, int ExitCode) Http(NetLab lab, string ns, string address, int port, int timeoutSeconds = 3, string? source = null)
    {
        var r = lab.Run(ns, TimeSpan.FromSeconds(timeoutSeconds + 5), "curl", CurlArgs(address, port, timeoutSeconds, source), input: null);
        return (r.Stdout.Trim(), r.ExitCode);
    }

    /// <summary><paramref name="count"/> curl requests running at the same time (each its own connection and source
    /// port); their HTTP statuses ("000" when nothing answered).</summary>
    public static string[] HttpConcurrently(NetLab lab, string ns, string address, int port, int count, int timeoutSeconds = 3)
    {
        var curls = new List<LabProcess>();
        try
        {
            for (int i = 0; i < count; i++) curls.Add(lab.StartBackground(ns, "curl", CurlArgs(address, port, timeoutSeconds, source: null)));
            foreach (var c in curls)
                if (!c.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds + 10))) throw new TimeoutException($"{c.CommandLine} did not finish");
            return [.. curls.Select(c => c.Stdout.Trim())];
        }
        finally
        {
            foreach (var c in curls) c.Dispose();
        }
    }

    private static string[] CurlArgs(string address, int port, int timeoutSeconds, string? source)
    {
        string t = timeoutSeconds.ToString(CultureInfo.InvariantCulture);
        string[] args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", t, "--connect-timeout", t, Url(address, port)];
        return source is null ? args : ["--interface", source, .. args];
    }

    /// <summary>Connects with socat and returns the first line the server sent ("" when nothing answered).</summary>
    public static string TcpBanner(NetLab lab, string ns, string address, int port, int timeoutSeconds = 3)
    {
        string target = address.Contains(':') ? $"TCP6:[{address}]:{port},connect-timeout={timeoutSeconds}" : $"TCP4:{address}:{port},connect-timeout={timeoutSeconds}";
        var r = lab.Run(ns, TimeSpan.FromSeconds(timeoutSeconds + 5), "socat", ["-T", timeoutSeconds.ToString(CultureInfo.InvariantCulture), "-", target], input: "");
        return r.Stdout.Split('\n')[0].Trim();
    }

    /// <summary>Pings <paramref name="count"/> times, <paramref name="interval"/> seconds apart (under 0.2: root only), each
    /// reply awaited up to <paramref name="waitSeconds"/>; returns the number of replies.</summary>
    public static int Ping(NetLab lab, string ns, string address, int count = 3, double interval = 0.2, int waitSeconds = 1)
    {
        var r = lab.Run(ns, TimeSpan.FromSeconds(count + waitSeconds + 4), "ping",
            [address.Contains(':') ? "-6" : "-4", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", interval.ToString(CultureInfo.InvariantCulture),
             "-W", waitSeconds.ToString(CultureInfo.InvariantCulture), "-n", address], input: null);
        foreach (var line in r.Stdout.Split('\n'))
        {
            int i = line.IndexOf(" received", StringComparison.Ordinal);
            if (i < 0) continue;
            var parts = line[..i].Split(' ');
            return int.Parse(parts[^1], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>A fast ping run (2 ms apart; root): <paramref name="count"/> echo requests and their replies.</summary>
    public static void Flood(NetLab lab, string ns, string address, int count)
    {
        lab.Run(ns, TimeSpan.FromSeconds(count / 100 + 10), "ping",
            [address.Contains(':') ? "-6" : "-4", "-q", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.002", "-W", "1", address], input: null);
    }

    /// <summary>Starts the servers a test talks to: python http.server (dual-stack) and a socat banner on <paramref name="bannerPort"/>.</summary>
    public static void StartServers(NetLab lab, string ns, int httpPort, int bannerPort, string banner)
    {
        lab.StartBackground(ns, "/usr/bin/python3", "-m", "http.server", httpPort.ToString(CultureInfo.InvariantCulture), "--bind", "::",
            "--directory", AppContext.BaseDirectory);
        lab.StartBackground(ns, "socat", $"TCP6-LISTEN:{bannerPort},fork,reuseaddr,ipv6only=0", $"SYSTEM:echo {banner}");
        if (!lab.WaitForListener(ns, httpPort) || !lab.WaitForListener(ns, bannerPort))
            throw new InvalidOperationException($"servers on {httpPort}/{bannerPort} did not start in {ns}");
    }

    /// <summary>A short iperf3 TCP run; returns the receiver's bits per second (0 when it failed).</summary>
    public static double Iperf3(NetLab lab, string clientNs, string serverNs, string serverAddress, int port, double seconds = 1)
    {
        var server = lab.StartBackground(serverNs, "iperf3", "-s", "-1", "-p", port.ToString(CultureInfo.InvariantCulture));
        try
        {
            if (!lab.WaitForListener(serverNs, port)) throw new InvalidOperationException("iperf3 server did not start");
            var r = lab.Run(clientNs, TimeSpan.FromSeconds(seconds + 15), "iperf3",
                ["-c", serverAddress, "-p", port.ToString(CultureInfo.InvariantCulture), "-t", seconds.ToString(CultureInfo.InvariantCulture),
                 "-J", "--connect-timeout", "3000"], input: null);
            if (r.ExitCode != 0) return 0;
            var json = System.Text.Json.Nodes.JsonNode.Parse(r.Stdout);
            return json?["end"]?["sum_received"]?["bits_per_second"]?.GetValue<double>() ?? 0;
        }
        finally
        {
            server.Kill();
        }
    }

    /// <summary>Runs a scapy script (the scapy names are imported) with /usr/bin/python3 in <paramref name="ns"/>; returns stdout.</summary>
    public static string Scapy(NetLab lab, string ns, string script, int timeoutSeconds = 20)
    {
        NetLab.RequireScapy();
        var r = lab.Run(ns, TimeSpan.FromSeconds(timeoutSeconds), NetLab.SystemPython,
            ["-c", "from scapy.all import *\nconf.verb = 0\n" + script], input: null);
        if (r.ExitCode != 0) throw new InvalidOperationException("scapy script failed: " + r);
        return r.Stdout;
    }
}

/// <summary>tcpdump on one interface of a lab namespace: the packets (one line each) that matched a filter.</summary>
public sealed class PacketCapture : IDisposable
{
    private readonly LabProcess _process;

    private PacketCapture(LabProcess process) => _process = process;

    public static PacketCapture Start(NetLab lab, string ns, string link, string filter)
    {
        NetLab.RequireTools("tcpdump");
        var p = lab.StartBackground(ns, "tcpdump", "-l", "-n", "-i", link, "-Q", "in", filter);
        if (!p.WaitForOutput("listening on", TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException($"tcpdump did not start: {p.Stderr}");
        return new PacketCapture(p);
    }

    /// <summary>Stops the capture (after a short grace for packets in flight) and returns the packet lines.</summary>
    public string[] Stop(int graceMilliseconds = 500)
    {
        Thread.Sleep(graceMilliseconds);
        _process.Stop("INT", TimeSpan.FromSeconds(5));
        return _process.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public void Dispose() => _process.Dispose();
}
