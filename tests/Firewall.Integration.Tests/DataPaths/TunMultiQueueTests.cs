using Firewall.Integration.Tests.Lab;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// The TUN fixture with <c>Tun:MultiQueue</c>: the daemon opens one queue of the TUN per processor (clamped to 1..4;
/// this machine has 2, so 2 queues) with one reader each over one engine.
/// <para>The kernel hands a packet to the queue that last wrote its flow (the flow's symmetric hash: addresses and
/// ports), a new flow to a queue chosen by that hash; the daemon writes a packet back into the queue it came from, so
/// both directions of a connection stay on one queue. Different connections (source ports) spread: with 16 at once,
/// the chance that all take the same one of two queues is 2 × 2^-16, fresh on each run (the ports are random).</para>
/// </summary>
public sealed class TunMultiQueueFixture() : RoutedDaemonFixture(t => TunFixture.Config(t, TunFixture.TunNameIn(t), multiQueue: true))
{
    public const int Connections = 16;

    /// <summary>What TunDataPath opens: one queue per processor, at least 1 and at most 4.</summary>
    public static int ExpectedQueues => Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>The readers' names, "TUN/0", "TUN/1", …</summary>
    public string[] Readers => [.. Enumerable.Range(0, ExpectedQueues).Select(i => $"{TunFixture.TunNameIn(T)}/{i}")];
}

[Collection("DataPaths")]
public sealed class TunMultiQueueTests(TunMultiQueueFixture f) : RoutedPolicyTests(f.T), IClassFixture<TunMultiQueueFixture>
{
    private NetLab Lab => f.T.Lab;
    private static string Server(bool v6) => v6 ? R.ServerV6 : R.ServerV4;
    private static string Client(bool v6) => v6 ? R.ClientV6 : R.ClientV4;

    private long[] PerReader(string details, string key) => [.. f.Readers.Select(r => DaemonProcess.ParseCounters(details, r)[key])];

    [Fact]
    public void MultiQueue_OpensOneReaderPerProcessor()
    {
        string details = f.Daemon.FreshDetails();
        Assert.True(f.Readers.Length > 1, $"this machine has {Environment.ProcessorCount} processor(s): the daemon opens one TUN queue, nothing to spread");
        Assert.Equal(f.Readers.Length, details.Split("; ").Length);
        foreach (var r in f.Readers) Assert.NotEmpty(DaemonProcess.ParseCounters(details, r));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConcurrentClientConnections_AllGetAnswers(bool v6)
    {
        string[] statuses = Traffic.HttpConcurrently(Lab, f.T.Client, Server(v6), HttpPort, TunMultiQueueFixture.Connections);
        Assert.All(statuses, s => Assert.Equal("200", s));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConcurrentServerConnections_AreAllDropped(bool v6)
    {
        string before = f.Daemon.FreshDetails();
        string[] statuses = Traffic.HttpConcurrently(Lab, f.T.Server, Client(v6), HttpPort, TunMultiQueueFixture.Connections, timeoutSeconds: 2);
        string after = f.Daemon.FreshDetails();
        Assert.All(statuses, s => Assert.Equal("000", s));
        // each connection's SYN at least (curl gives up after 2 s, before most retransmissions)
        Assert.True(PerReader(after, "dropped").Sum() - PerReader(before, "dropped").Sum() >= TunMultiQueueFixture.Connections,
            $"{before} -> {after}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConcurrentConnections_AreHandledByMoreThanOneQueueReader(bool v6)
    {
        string before = f.Daemon.FreshDetails();
        Traffic.HttpConcurrently(Lab, f.T.Client, Server(v6), HttpPort, TunMultiQueueFixture.Connections);
        string after = f.Daemon.FreshDetails();
        long[] b = PerReader(before, "accepted"), a = PerReader(after, "accepted");
        int busy = Enumerable.Range(0, b.Length).Count(i => a[i] > b[i]);
        Assert.True(busy > 1, $"only {busy} of {b.Length} TUN queue readers accepted packets: {before} -> {after}");
        Assert.Equal(PerReader(before, "write_errors").Sum(), PerReader(after, "write_errors").Sum());
    }
}
