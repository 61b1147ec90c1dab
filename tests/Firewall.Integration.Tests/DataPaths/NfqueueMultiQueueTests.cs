using Firewall.Integration.Tests.Lab;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// The NFQUEUE fixture on two queues (<see cref="First"/>, <see cref="First"/>+1: iptables --queue-balance), one reader
/// each over one engine, and <see cref="ClientAddresses"/> extra client addresses.
/// <para>The kernel picks the queue by a hash of the address pair (IPv4: and the protocol; never the ports), seeded at
/// random once per boot, and symmetric, so both directions of a flow meet in one queue. One address pair always lands
/// on the same queue: only several client addresses can show both readers at work. With 16 addresses the chance that
/// every flow hashes to the same one of two queues is 2 × 2^-16 per family — and, the seed being fixed per boot,
/// such a boot would fail these tests every time, so fewer addresses (8: one boot in 128) would not do.</para>
/// </summary>
public sealed class NfqueueMultiQueueFixture() : RoutedDaemonFixture(t =>
{
    t.AddClientAddresses(NfqueueMultiQueueFixture.ClientAddresses);
    return NfqueueConfig.Create(t, queueBypass: true, NfqueueMultiQueueFixture.First, NfqueueMultiQueueFixture.First + 1);
})
{
    public const int First = 4;
    public const int ClientAddresses = 16;
    public static readonly string[] Readers = [$"queue {First}", $"queue {First + 1}"];
}

[Collection("DataPaths")]
public sealed class NfqueueMultiQueueTests(NfqueueMultiQueueFixture f) : RoutedPolicyTests(f.T), IClassFixture<NfqueueMultiQueueFixture>
{
    private NetLab Lab => f.T.Lab;
    private static string Server(bool v6) => v6 ? R.ServerV6 : R.ServerV4;

    private static IEnumerable<string> ClientAddresses(bool v6) =>
        Enumerable.Range(0, NfqueueMultiQueueFixture.ClientAddresses).Select(i => R.ExtraClientAddress(i, v6));

    /// <summary>One HTTP request from every extra client address; the statuses by address.</summary>
    private Dictionary<string, string> HttpFromEveryClientAddress(bool v6) =>
        ClientAddresses(v6).ToDictionary(a => a, a => Traffic.Http(Lab, f.T.Client, Server(v6), HttpPort, source: a).Status);

    /// <summary>Counter <paramref name="key"/> of each reader, from one stats line.</summary>
    private long[] PerReader(string details, string key) =>
        [.. NfqueueMultiQueueFixture.Readers.Select(r => DaemonProcess.ParseCounters(details, r)[key])];

    [Fact]
    public void KernelRules_BalanceOverBothQueues()
    {
        string rules = NfqueueConfig.NfqueueRules(Lab, f.T.Router);
        string balance = $"-j NFQUEUE --queue-balance {NfqueueMultiQueueFixture.First}:{NfqueueMultiQueueFixture.First + 1} --queue-bypass";
        Assert.Equal(2, rules.Split('\n').Count(l => l.Contains(balance)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClientsAtEveryAddress_GetAnswersThroughTheDropPolicy(bool v6)
    {
        // The policy lets only ESTABLISHED back from the server: every 200 means both directions met in the engine.
        var statuses = HttpFromEveryClientAddress(v6);
        Assert.All(statuses, s => Assert.True(s.Value == "200", $"HTTP from {s.Key}: {s.Value}"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConnectionsFromManyAddresses_AreAcceptedByEveryQueueReader(bool v6)
    {
        string before = f.Daemon.FreshDetails();
        HttpFromEveryClientAddress(v6);
        string after = f.Daemon.FreshDetails();
        long[] b = PerReader(before, "accepted"), a = PerReader(after, "accepted");
        for (int i = 0; i < b.Length; i++)
            Assert.True(a[i] > b[i], $"{NfqueueMultiQueueFixture.Readers[i]} accepted nothing: {before} -> {after}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NewFromServerToEveryClientAddress_IsDroppedByEveryQueueReader(bool v6)
    {
        string before = f.Daemon.FreshDetails();
        using var capture = PacketCapture.Start(Lab, f.T.Client, f.T.ClientLink, "tcp src port 40410");
        string ip = v6 ? "IPv6" : "IP";
        string targets = string.Join(", ", ClientAddresses(v6).Select(a => $"'{a}'"));
        Traffic.Scapy(Lab, f.T.Server, $"send([{ip}(src='{Server(v6)}', dst=d)/TCP(sport=40410, dport={HttpPort}, flags='S') for d in [{targets}]])");
        string[] seen = capture.Stop();
        string after = f.Daemon.FreshDetails();
        Assert.Empty(seen);
        long[] b = PerReader(before, "dropped"), a = PerReader(after, "dropped");
        Assert.Equal(NfqueueMultiQueueFixture.ClientAddresses, a.Sum() - b.Sum());
        for (int i = 0; i < b.Length; i++)
            Assert.True(a[i] > b[i], $"{NfqueueMultiQueueFixture.Readers[i]} dropped nothing: {before} -> {after}");
    }
}
