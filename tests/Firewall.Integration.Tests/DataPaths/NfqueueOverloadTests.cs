using Firewall.Integration.Tests.Lab;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// The daemon overloaded to the extreme: frozen with SIGSTOP it reads nothing, so its queue (QueueMaxLen 4) fills with
/// the first packets and stays full. With FailOpen the kernel then forwards every further packet unseen; without it,
/// it drops them. After SIGCONT the daemon reads again and filters as before. (README: "NFQUEUE", under overload.)
/// </summary>
[Collection("DataPaths")]
public sealed class NfqueueOverloadTests
{
    private const int QueueMaxLen = 4;
    private const int Pings = 12;

    /// <summary>The seed policy on queue 0 with QueueMaxLen 4, and the server's HTTP server.</summary>
    private static DaemonProcess StartDaemon(R t, bool failOpen, bool queueBypass)
    {
        NetLab.RequireTools("curl", "socat", "ping", "dotnet", "cat");
        var config = NfqueueConfig.Create(t, queueBypass);
        var nfqueue = config["Firewall"]!["DataPath"]!["Nfqueue"]!;
        nfqueue["FailOpen"] = failOpen;
        nfqueue["QueueMaxLen"] = QueueMaxLen;
        var daemon = DaemonProcess.Start(t.Lab, t.Router, config);
        Traffic.StartServers(t.Lab, t.Server, RoutedPolicyTests.HttpPort, RoutedPolicyTests.BannerPort, "banner-server");
        return daemon;
    }

    /// <summary>Queue 0 in the router: (packets waiting for a verdict, dropped because the queue was full).</summary>
    private static (long Waiting, long QueueDropped) QueueState(R t)
    {
        var q = NfqueueConfig.QueueLine(t, 0);
        return (q.Waiting, q.QueueDropped);
    }

    /// <summary>The policy holds: the client's pings and HTTP are answered, the server's pings are not.</summary>
    private static void AssertFiltering(R t)
    {
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Client, R.ServerV4));
        Assert.Equal("200", Traffic.Http(t.Lab, t.Client, R.ServerV4, RoutedPolicyTests.HttpPort).Status);
        Assert.Equal(0, Traffic.Ping(t.Lab, t.Server, R.ClientV4));
    }

    [Fact]
    public void FrozenDaemon_WithFailOpen_PassesPacketsBeyondTheQueueUnfiltered_AndFiltersAgainAfterResume()
    {
        // no --queue-bypass: that only covers "no listener"; here a listener is bound and it is FailOpen that lets packets through
        using var t = R.Create();
        using var daemon = StartDaemon(t, failOpen: true, queueBypass: false);
        AssertFiltering(t);
        int answered, forbiddenAnswered;
        (long Waiting, long QueueDropped) frozen;
        // a late packet of AssertFiltering's traffic (its HTTP connection's teardown, say) must not count among the frozen pings (CI once saw 9 drops for 8)
        NfqueueConfig.WaitForQuietQueue(t, 0);
        try
        {
            daemon.Freeze();
            answered = Traffic.Ping(t.Lab, t.Client, R.ServerV4, Pings);
            // the policy drops NEW from the server, but packets that do not fit in the queue are never seen by it
            forbiddenAnswered = Traffic.Ping(t.Lab, t.Server, R.ClientV4);
            frozen = QueueState(t);
        }
        finally
        {
            daemon.Resume();
        }
        // the first QueueMaxLen echo requests wait in the queue (their replies come after ping gave up), the rest pass
        Assert.Equal(Pings - QueueMaxLen, answered);
        Assert.Equal(3, forbiddenAnswered);
        Assert.Equal((QueueMaxLen, 0L), frozen);
        Assert.True(NetLab.WaitUntil(() => QueueState(t).Waiting == 0, TimeSpan.FromSeconds(5)), "the held packets got no verdict after SIGCONT");
        AssertFiltering(t);
    }

    [Fact]
    public void FrozenDaemon_WithoutFailOpen_BlackholesTraffic_UntilResumed()
    {
        // --queue-bypass (the default) does not help either: it only applies while no process has bound the queue
        using var t = R.Create();
        using var daemon = StartDaemon(t, failOpen: false, queueBypass: true);
        AssertFiltering(t);
        int answered;
        (long Waiting, long QueueDropped) frozen;
        // a late packet of AssertFiltering's traffic (its HTTP connection's teardown, say) must not count among the frozen pings (CI once saw 9 drops for 8)
        NfqueueConfig.WaitForQuietQueue(t, 0);
        try
        {
            daemon.Freeze();
            answered = Traffic.Ping(t.Lab, t.Client, R.ServerV4, Pings);
            frozen = QueueState(t);
        }
        finally
        {
            daemon.Resume();
        }
        Assert.Equal(0, answered);
        Assert.Equal((QueueMaxLen, Pings - QueueMaxLen), frozen);
        Assert.True(NetLab.WaitUntil(() => QueueState(t).Waiting == 0, TimeSpan.FromSeconds(5)), "the held packets got no verdict after SIGCONT");
        AssertFiltering(t);
    }
}
