using System.Globalization;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>client — router (daemon on NFQUEUE, FORWARD) — server, the router's iptables rules managed by the daemon.</summary>
public sealed class NfqueueFixture() : RoutedDaemonFixture(t => NfqueueConfig.Create(t, queueBypass: true))
{
    public const int RejectTcpPort = 2323;
}

public static class NfqueueConfig
{
    /// <summary>The seed policy (NEW only from the client side) plus a tcp-reset REJECT for the server side's port 2323,
    /// on <paramref name="queues"/> (default: queue 0; several: consecutive, --queue-balance).</summary>
    public static JsonObject Create(R t, bool queueBypass, params int[] queues)
    {
        var rules = DaemonConfig.SeedRules(t.RouterClientLink);
        rules.Insert(3, DaemonConfig.Rule($"-i {t.RouterServerLink} -p tcp --dport {NfqueueFixture.RejectTcpPort} -j REJECT --reject-with tcp-reset"));
        return DaemonConfig.Create(new JsonObject
        {
            ["Mode"] = "Nfqueue",
            ["Nfqueue"] = new JsonObject
            {
                ["Queues"] = new JsonArray([.. (queues.Length > 0 ? queues : [0]).Select(q => JsonValue.Create(q))]),
                ["ManageKernelRules"] = true,
                ["Chains"] = new JsonArray("FORWARD"),
                ["QueueBypass"] = queueBypass,
            },
        }, "DROP", rules);
    }

    /// <summary>Queue <paramref name="queue"/>'s line of /proc/net/netfilter/nfnetlink_queue in the router: packets
    /// waiting for a verdict, dropped because the queue was full, and the id sequence (the last packet id handed out:
    /// it grows with every packet queued, not with those dropped because the queue was full).</summary>
    public static (long Waiting, long QueueDropped, long IdSequence) QueueLine(R t, int queue)
    {
        var r = t.Lab.Run(t.Router, "cat", "/proc/net/netfilter/nfnetlink_queue").ThrowIfFailed();
        // queue portid waiting copy_mode copy_range queue_dropped user_dropped id_sequence 1
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f[0] == queue.ToString(CultureInfo.InvariantCulture))
                return (long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture),
                        long.Parse(f[7], CultureInfo.InvariantCulture));
        }
        throw new InvalidOperationException($"queue {queue} is not bound:\n" + r.Stdout);
    }

    /// <summary>
    /// Waits until nothing has been queued for half a second (the id sequence stands still), so that a test that counts
    /// packets exactly does not count late packets of the traffic before it (a TCP connection's teardown, or a
    /// retransmission of it, can trail curl's exit).
    /// </summary>
    public static void WaitForQuietQueue(R t, int queue)
    {
        long last = QueueLine(t, queue).IdSequence;
        var quietSince = DateTime.UtcNow;
        bool quiet = NetLab.WaitUntil(() =>
        {
            long now = QueueLine(t, queue).IdSequence;
            if (now != last) { last = now; quietSince = DateTime.UtcNow; }
            return DateTime.UtcNow - quietSince >= TimeSpan.FromMilliseconds(500);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        Assert.True(quiet, $"packets kept entering queue {queue} for 10 s after the last traffic");
    }

    public static string NfqueueRules(NetLab lab, string ns) =>
        lab.Run(ns, NetLab.Iptables, "-S", "FORWARD").Stdout + lab.Run(ns, NetLab.Ip6tables, "-S", "FORWARD").Stdout;
}

[Collection("DataPaths")]
public sealed class NfqueueDataPathTests(NfqueueFixture f) : RoutedPolicyTests(f.T), IClassFixture<NfqueueFixture>
{
    private NetLab Lab => f.T.Lab;
    private static string Server(bool v6) => v6 ? R.ServerV6 : R.ServerV4;
    private static string Client(bool v6) => v6 ? R.ClientV6 : R.ClientV4;

    [Fact]
    public void KernelRules_AreInstalledForBothFamilies()
    {
        string rules = NfqueueConfig.NfqueueRules(Lab, f.T.Router);
        Assert.Equal(2, rules.Split('\n').Count(l => l.Contains("-j NFQUEUE --queue-num 0 --queue-bypass")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BareAckFromServer_IsDroppedAndCounted(bool v6)
    {
        NfqueueConfig.WaitForQuietQueue(f.T, 0); // the counts below are exact: nothing of an earlier test may trail into them
        var before = f.Daemon.FreshCounters("queue 0");
        using var capture = PacketCapture.Start(Lab, f.T.Client, f.T.ClientLink, "tcp port 40404");
        Traffic.Scapy(Lab, f.T.Server,
            $"send({BridgeDataPathTests.Ip(v6, Server(v6), Client(v6))}/TCP(sport=40404, dport=22, flags='A', seq=1000, ack=2000), count=5, inter=0.02)");
        string[] seen = capture.Stop();
        var after = f.Daemon.FreshCounters("queue 0");
        Assert.Empty(seen);
        Assert.Equal(5, after["dropped"] - before["dropped"]);
        Assert.Equal(5, after["packets"] - before["packets"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectedTcp_IsAnsweredWithReset(bool v6)
    {
        var before = f.Daemon.FreshCounters("queue 0");
        var clock = Stopwatch.StartNew();
        var (status, exit) = Traffic.Http(Lab, f.T.Server, Client(v6), NfqueueFixture.RejectTcpPort, timeoutSeconds: 3);
        clock.Stop();
        var after = f.Daemon.FreshCounters("queue 0");
        Assert.Equal("000", status);
        Assert.Equal(7, exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.True(after["rejects_sent"] - before["rejects_sent"] >= 1);
    }

    [Fact]
    public void SteadyState_VerdictsAllocateNothingOnTheReaderThread()
    {
        Traffic.Flood(Lab, f.T.Client, R.ServerV4, 300);
        Traffic.Flood(Lab, f.T.Client, R.ServerV6, 300);
        var before = f.Daemon.FreshCounters("queue 0");
        Traffic.Flood(Lab, f.T.Client, R.ServerV4, 1000);
        Traffic.Flood(Lab, f.T.Client, R.ServerV6, 1000);
        var after = f.Daemon.FreshCounters("queue 0");
        Assert.True(after["accepted"] - before["accepted"] >= 4000);
        Assert.True(after["thread_alloc"] > 0, "the reader thread's allocations were never sampled");
        Assert.Equal(before["thread_alloc"], after["thread_alloc"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Iperf3FromClient_TransfersThroughTheQueue(bool v6)
    {
        var before = f.Daemon.FreshCounters("queue 0");
        double bps = Traffic.Iperf3(Lab, f.T.Client, f.T.Server, Server(v6), 5201 + (v6 ? 1 : 0));
        var after = f.Daemon.FreshCounters("queue 0");
        Assert.True(bps > 10e6, $"iperf3 through NFQUEUE: {bps / 1e6:F1} Mbit/s");
        Assert.True(after["accepted"] - before["accepted"] > 1000, $"accepted {before["accepted"]} -> {after["accepted"]}");
        Assert.True(after["batch_verdicts"] > before["batch_verdicts"]);
    }
}

/// <summary>What traffic does when the daemon stops or dies (README: "NFQUEUE: when the daemon is not running").</summary>
[Collection("DataPaths")]
public sealed class NfqueueStopTests
{
    [Fact]
    public void KilledDaemon_WithQueueBypass_LeavesTrafficUnfiltered()
    {
        using var t = R.Create();
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, NfqueueConfig.Create(t, queueBypass: true));
        Assert.Equal(0, Traffic.Ping(t.Lab, t.Server, R.ClientV4, 2)); // filtered while running
        daemon.Kill();
        Assert.Contains("--queue-bypass", NfqueueConfig.NfqueueRules(t.Lab, t.Router)); // SIGKILL: no clean-up, rules stay
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Server, R.ClientV4));       // no listener + bypass: accepted unseen
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Client, R.ServerV4));
    }

    [Fact]
    public void KilledDaemon_WithoutQueueBypass_BlackholesTraffic()
    {
        using var t = R.Create();
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, NfqueueConfig.Create(t, queueBypass: false));
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Client, R.ServerV4));
        daemon.Kill();
        Assert.Contains("--queue-num 0", NfqueueConfig.NfqueueRules(t.Lab, t.Router));
        Assert.Equal(0, Traffic.Ping(t.Lab, t.Client, R.ServerV4)); // no listener, no bypass: every packet dropped
    }

    [Fact]
    public void StoppedDaemon_RemovesExactlyItsRules()
    {
        using var t = R.Create();
        // An administrator's own NFQUEUE rule for another queue must survive.
        t.Lab.Run(t.Router, NetLab.Iptables, "-A", "FORWARD", "-p", "udp", "--dport", "9999", "-j", "NFQUEUE", "--queue-num", "7", "--queue-bypass").ThrowIfFailed();
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, NfqueueConfig.Create(t, queueBypass: false));
        Assert.Contains("--queue-num 0", NfqueueConfig.NfqueueRules(t.Lab, t.Router));
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, daemon.Stop());
        clock.Stop();

        string rules = NfqueueConfig.NfqueueRules(t.Lab, t.Router);
        Assert.DoesNotContain("--queue-num 0", rules);
        Assert.Contains("--queue-num 7", rules);
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Server, R.ClientV4)); // kernel forwarding again, unfiltered
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"stop took {clock.Elapsed}");
    }

    [Fact]
    public void SecondDaemon_OnABoundQueue_FailsWithAClearError()
    {
        using var t = R.Create();
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, NfqueueConfig.Create(t, queueBypass: true));
        var config = NfqueueConfig.Create(t, queueBypass: true);
        config["Firewall"]!["DataPath"]!["Nfqueue"]!["ManageKernelRules"] = false;
        var (exit, output) = DaemonProcess.RunExpectingFailure(t.Lab, t.Router, config);
        Assert.NotEqual(0, exit);
        Assert.Contains("NFQUEUE 0 is already bound by another process", output);
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Client, R.ServerV4)); // the first daemon is unaffected
    }
}
