using System.Globalization;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// How readers wait for packets. A bridge reader also reads the other NIC after its own, so the answer to a frame it
/// just forwarded leaves without waking the other NIC's thread. With BusyPollUs (bridge and NFQUEUE) a reader keeps
/// reading without sleeping for that long after the last packet: a CPU spins while pings flow 10 ms apart, and the
/// daemon goes back to sleep when the traffic stops. Either way the policy holds.
/// </summary>
[Collection("DataPaths")]
public sealed class BusyPollTests
{
    private const int PollUs = 50_000; // longer than the 10 ms between pings: the reader never sleeps while pinged

    private static DaemonProcess StartBridge(BridgeTopology t, int busyPollUs) =>
        DaemonProcess.Start(t.Lab, t.Bridge, DaemonConfig.Create(new JsonObject
        {
            ["Mode"] = "Bridge",
            ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4, ["BusyPollUs"] = busyPollUs },
        }, "DROP", DaemonConfig.SeedRules(t.PortIn)));

    /// <summary>CPU seconds (user + system) the process has used so far.</summary>
    private static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd on
        long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ
    }

    /// <summary>CPU seconds the daemon used while <paramref name="action"/> ran, and the wall seconds it took.</summary>
    private static (double Cpu, double Wall) Measure(int pid, Action action)
    {
        double cpu0 = CpuSeconds(pid);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        action();
        return (CpuSeconds(pid) - cpu0, clock.Elapsed.TotalSeconds);
    }

    [Fact]
    public void Bridge_ReaderAlsoReadsTheOtherNic_RepliesLeaveWithoutTheirOwnThread()
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, 0);
        Assert.Equal(20, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, count: 20, interval: 0.05));
        var inside = daemon.FreshCounters(t.PortIn);
        var outside = daemon.FreshCounters(t.PortOut);
        // each echo reply is queued on the outside NIC while the inside reader is still sending its request
        Assert.True(inside["partner_frames"] >= 5, $"the inside reader read {inside["partner_frames"]} frames of the outside NIC");
        Assert.True(outside["in"] >= 20, $"outside NIC: {outside["in"]} frames counted in");
        Assert.Equal(0, inside["busy_polls"] + outside["busy_polls"]);
    }

    /// <summary>
    /// The daemon in poll mode between <paramref name="inside"/> (may open connections) and <paramref name="outside"/>
    /// (may not): it spins a CPU while pings flow 10 ms apart, sleeps once they stop, and the policy holds.
    /// </summary>
    private static void AssertSpinsWhilePingedThenSleeps_AndPolicyHolds(NetLab lab, DaemonProcess daemon, string inside, string outside,
                                                                         string outsideV4, string outsideV6, string insideV4)
    {
        Traffic.StartServers(lab, outside, 80, 22, "banner-outside");
        Traffic.StartServers(lab, inside, 8080, 2222, "banner-inside");

        var (busy, wall) = Measure(daemon.Pid, () => Assert.Equal(150, Traffic.Ping(lab, inside, outsideV4, count: 150, interval: 0.01)));
        Thread.Sleep(500);
        var (idle, idleWall) = Measure(daemon.Pid, () => Thread.Sleep(2000));
        Assert.True(busy > 0.6 * wall, $"busy polling: {busy:F2} s of CPU in {wall:F2} s of pings 10 ms apart");
        Assert.True(idle < 0.25 * idleWall, $"after the traffic: {idle:F2} s of CPU in {idleWall:F2} s idle");

        Assert.Equal(3, Traffic.Ping(lab, inside, outsideV6));
        Assert.Equal("200", Traffic.Http(lab, inside, outsideV4, 80).Status);
        Assert.Equal("banner-outside", Traffic.TcpBanner(lab, inside, outsideV6, 22));
        Assert.Equal(0, Traffic.Ping(lab, outside, insideV4, waitSeconds: 1));
        Assert.NotEqual("200", Traffic.Http(lab, outside, insideV4, 8080, timeoutSeconds: 2).Status);
    }

    [Fact]
    public void Bridge_BusyPoll_SpinsWhileTrafficFlows_SleepsWhenIdle_PolicyHolds()
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, PollUs);
        AssertSpinsWhilePingedThenSleeps_AndPolicyHolds(t.Lab, daemon, t.Inside, t.Outside,
            BridgeTopology.OutsideV4, BridgeTopology.OutsideV6, BridgeTopology.InsideV4);
        double bps = Traffic.Iperf3(t.Lab, t.Inside, t.Outside, BridgeTopology.OutsideV4, 5201);
        Assert.True(bps > 50e6, $"iperf3 through the busy-polling bridge gave {bps / 1e6:F1} Mbit/s");

        var inside = daemon.FreshCounters(t.PortIn);
        var outside = daemon.FreshCounters(t.PortOut);
        Assert.True(inside["busy_polls"] + outside["busy_polls"] >= 1, "no reader busy-polled");
        Assert.True(outside["dropped"] >= 3, $"the outside's pings and connection were not dropped (dropped={outside["dropped"]} on {t.PortOut})");
    }

    /// <summary>
    /// Voluntary context switches (sleeps, each ended by a wake-up) of the daemon's reader threads together. (Both bridge
    /// readers may have one name: the kernel keeps 15 characters of "reader " + the NIC's name.) A thread that spins
    /// adds almost none: sched_yield() does not sleep.
    /// </summary>
    private static long ReaderSleeps(int pid)
    {
        long sum = 0;
        int readers = 0;
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith("reader ", StringComparison.Ordinal)) continue;
                string line = File.ReadLines(Path.Combine(task, "status")).Single(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal));
                sum += long.Parse(line["voluntary_ctxt_switches:".Length..].Trim(), CultureInfo.InvariantCulture);
                readers++;
            }
            catch (IOException) { } // a runtime thread that ended while we listed them (readers live on)
        }
        Assert.True(readers == 2, $"found {readers} reader threads in the daemon, expected the bridge's 2");
        return sum;
    }

    /// <summary>
    /// While one bridge reader busy-polls and reads both NICs, the other NIC's thread waits on its bell, not on its NIC:
    /// the replies the spinning thread forwards no longer wake it, one cross-CPU wake-up each. When the spinning stops,
    /// it is rung and reads its NIC again.
    /// </summary>
    [Fact]
    public void Bridge_BusyPoll_TheOtherThreadIsNotWokenByEachReply_AndReadsItsNicAgainAfterwards()
    {
        using var t = BridgeTopology.Create();
        using var daemon = StartBridge(t, PollUs);
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, interval: 0.01)); // ARP, connection, JIT
        Thread.Sleep(500);
        long before = ReaderSleeps(daemon.Pid);
        var in0 = daemon.FreshCounters(t.PortIn);
        var out0 = daemon.FreshCounters(t.PortOut);
        Assert.Equal(200, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, count: 200, interval: 0.01));
        long woken = ReaderSleeps(daemon.Pid) - before;
        var inside = daemon.FreshCounters(t.PortIn);
        var outside = daemon.FreshCounters(t.PortOut);
        // whichever reader took the busy-poll token (usually the inside one, with the first request; sometimes the
        // outside one, woken by the first reply) read both NICs: the other NIC's 200 frames went through it
        long insideRead = inside["partner_frames"] - in0["partner_frames"], outsideRead = outside["partner_frames"] - out0["partner_frames"];
        bool insideSpun = insideRead >= outsideRead;
        string other = insideSpun ? t.PortOut : t.PortIn;
        Assert.True(Math.Max(insideRead, outsideRead) >= 190, $"the spinning reader read {Math.Max(insideRead, outsideRead)} of the other NIC's 200 frames");
        Assert.True(daemon.FreshCounters(other)["parked"] >= 1, $"{other}'s thread never waited on its bell");
        // the other NIC's thread woken by its bell and its 250 ms timeouts (about 10 in 2 s), not by each frame
        Assert.True(woken < 60, $"the reader threads slept and were woken {woken} times while 200 pings went through the spinning one");

        // the spinning has ended (50 ms after the last ping): the other thread waits on its NIC again, not on its bell
        // (which would end every 250 ms, one park each), and reads the frames that arrive there
        Thread.Sleep(500);
        long parked = daemon.FreshCounters(other)["parked"];
        Thread.Sleep(1500);
        long parkedLater = daemon.FreshCounters(other)["parked"];
        Assert.True(parkedLater - parked <= 2, $"{other}'s thread parked {parkedLater - parked} times in 1.5 s after the traffic stopped");
        long spinnerRead = daemon.FreshCounters(insideSpun ? t.PortIn : t.PortOut)["partner_frames"];
        long otherIn = daemon.FreshCounters(other)["in"];
        if (insideSpun) Assert.Equal(0, Traffic.Ping(t.Lab, t.Outside, BridgeTopology.InsideV4, count: 2, interval: 0.2, waitSeconds: 1)); // dropped
        else Assert.Equal(2, Traffic.Ping(t.Lab, t.Inside, BridgeTopology.OutsideV4, count: 2, interval: 0.2));
        Assert.True(daemon.FreshCounters(other)["in"] >= otherIn + 2, $"{other} did not count the 2 pings in");
        Assert.Equal(spinnerRead, daemon.FreshCounters(insideSpun ? t.PortIn : t.PortOut)["partner_frames"]); // its own thread read them
    }

    [Fact]
    public void Nfqueue_BusyPoll_SpinsWhileTrafficFlows_SleepsWhenIdle_PolicyHolds()
    {
        using var t = RoutedTopology.Create();
        JsonObject config = NfqueueConfig.Create(t, queueBypass: false);
        config["Firewall"]!["DataPath"]!["Nfqueue"]!["BusyPollUs"] = PollUs;
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, config);
        AssertSpinsWhilePingedThenSleeps_AndPolicyHolds(t.Lab, daemon, t.Client, t.Server,
            RoutedTopology.ServerV4, RoutedTopology.ServerV6, RoutedTopology.ClientV4);

        var queue = daemon.FreshCounters("queue 0");
        Assert.True(queue["busy_polls"] >= 1, "the queue's reader never busy-polled");
        Assert.True(queue["dropped"] >= 3, $"the server side's pings and connection were not dropped (dropped={queue["dropped"]})");
    }
}
