using System.Diagnostics;
using System.Globalization;
using System.Net;
using Firewall.Integration.Tests.DataPaths;
using Firewall.Integration.Tests.Lab;
using Firewall.Integration.Tests.Native.Lab;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Namespaces;
using Firewall.Native.Netlink;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.Native;

/// <summary>NFQUEUE over raw netlink in a router namespace; ICMP between client and server is queued on FORWARD.</summary>
public sealed class NfQueueTests : IDisposable
{
    private const ushort QueueNumber = 7;
    private const byte IcmpEchoRequest = 8;
    private const byte IcmpEchoReply = 0;
    private static readonly uint ServerAddress = BitConverter.ToUInt32(IPAddress.Parse(R.ServerV4).GetAddressBytes().Reverse().ToArray());

    private readonly R _t = R.Create();

    public void Dispose() => _t.Dispose();

    private NfQueue OpenInRouter(NfQueueOptions? options = null) =>
        NetNamespace.Run(_t.Router, () => NfQueue.Open(QueueNumber, options));

    /// <summary>Runs iptables (-w) in the router; throws when it fails.</summary>
    private string Iptables(params string[] args) => _t.Lab.Run(_t.Router, NetLab.Iptables, ["-w", .. args]).ThrowIfFailed().Stdout;

    /// <summary>Queues forwarded ICMP of the router to the queue (no --queue-bypass: unbound = blackhole).</summary>
    private void QueueForwardedIcmp() =>
        Iptables("-A", "FORWARD", "-p", "icmp", "-j", "NFQUEUE", "--queue-num", QueueNumber.ToString(CultureInfo.InvariantCulture));

    /// <summary>Pings the server from the client; true when at least one reply came back.</summary>
    private bool Ping(int count, double intervalSeconds = 0.2, int waitSeconds = 1) =>
        Traffic.Ping(_t.Lab, _t.Client, R.ServerV4, count, intervalSeconds, waitSeconds) > 0;

    /// <summary>The router's NFQUEUE table (/proc/net follows the process's namespace, so it is read through `ip netns exec`).</summary>
    private string QueueProcText() => _t.Lab.Run(_t.Router, "cat", "/proc/net/netfilter/nfnetlink_queue").ThrowIfFailed().Stdout;

    [Fact]
    public void QueuedPackets_CarryIdHookProtocolInterfacesAndPayload()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptEach);
        Assert.True(Ping(3), "ping through an accepting queue failed");
        worker.Stop();

        (uint clientSide, uint serverSide) = NetNamespace.Run(_t.Router,
            () => (NetDevice.GetIndex(_t.RouterClientLink), NetDevice.GetIndex(_t.RouterServerLink)));
        NfqWorker.Seen[] requests = worker.Packets.Where(p => p.IcmpType == IcmpEchoRequest).ToArray();
        NfqWorker.Seen[] replies = worker.Packets.Where(p => p.IcmpType == IcmpEchoReply).ToArray();
        Assert.Equal(3, requests.Length);
        Assert.Equal(3, replies.Length);
        Assert.All(worker.Packets, p =>
        {
            Assert.Equal(NfHook.Forward, p.Hook);
            Assert.Equal(0x0800, p.HardwareProtocol);
            Assert.Equal(4, p.IpVersion);
            Assert.Equal(1, p.IpProtocol);
            Assert.Equal(84, p.Length); // 20 IP + 8 ICMP + 56 data
        });
        Assert.All(requests, p =>
        {
            Assert.Equal(ServerAddress, p.Destination);
            Assert.Equal(clientSide, p.InIndex);
            Assert.Equal(serverSide, p.OutIndex);
        });
        uint[] ids = worker.Packets.Select(p => p.Id).ToArray();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public void AcceptVerdict_LetsPingThrough()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptEach);
        bool replied = Ping(2);
        worker.Stop();
        Assert.True(replied);
        Assert.Equal(4, queue.Counters.SingleVerdicts);
    }

    [Fact]
    public void DropVerdict_BlocksPing()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        var worker = new NfqWorker(queue, NfqWorker.Policy.DropEach);
        bool replied = Ping(2);
        worker.Stop();
        Assert.False(replied, "ping got a reply although every queued packet was dropped");
        Assert.Equal(2, worker.Packets.Count(p => p.IcmpType == IcmpEchoRequest));
        Assert.DoesNotContain(worker.Packets, p => p.IcmpType == IcmpEchoReply);
    }

    [Fact]
    public void DeferredAccepts_AreSentAsBatchVerdicts_AndPingWorks()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptDeferred);
        bool replied = Ping(5, intervalSeconds: 0.1);
        worker.Stop();
        Assert.True(replied);
        Assert.Equal(10, worker.Packets.Length);
        Assert.Equal(0, queue.Counters.SingleVerdicts);
        Assert.InRange(queue.Counters.BatchVerdicts, 1, 10);
    }

    [Fact]
    public void BatchVerdict_AcceptsEveryQueuedPacketUpToTheId()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        // Three pings sent at once (ping -c 3 -i 0.01 ... the replies never come until we accept).
        bool replied = false;
        var ping = new Thread(() => replied = Ping(3, intervalSeconds: 0.01, waitSeconds: 3)) { IsBackground = true };
        ping.Start();
        var ids = new List<uint>();
        var clock = Stopwatch.StartNew();
        while (ids.Count < 3 && clock.ElapsedMilliseconds < 5000)
        {
            if (queue.Receive(out NfqMessageReader reader, 500) != NfqReceiveResult.Received) continue;
            while (reader.TryReadPacket(out NfqPacket p)) ids.Add(p.PacketId);
        }
        Assert.Equal(3, ids.Count);
        queue.SetVerdictBatch(ids.Max(), NfVerdict.Accept); // one message for all three requests

        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptEach); // the replies
        Assert.True(ping.Join(10_000), "ping did not finish");
        worker.Stop();
        Assert.True(replied);
        Assert.Equal(3, worker.Packets.Count(p => p.IcmpType == IcmpEchoReply));
        Assert.Equal(1, queue.Counters.BatchVerdicts);
    }

    [Fact]
    public void AcceptWithMark_SetsThePacketMark()
    {
        QueueForwardedIcmp();
        Iptables("-t", "mangle", "-A", "POSTROUTING", "-m", "mark", "--mark", "0x2a");
        using NfQueue queue = OpenInRouter();
        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptWithMark, mark: 0x2a);
        bool replied = Ping(2);
        worker.Stop();
        Assert.True(replied);

        string listing = Iptables("-t", "mangle", "-L", "POSTROUTING", "-v", "-x", "-n");
        string rule = listing.Split('\n').Single(l => l.Contains("mark match 0x2a"));
        Assert.Equal("4", rule.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]); // 2 requests + 2 replies carried the mark
    }

    [Fact]
    public void PacketQueuedDuringReconfiguration_IsRequeuedNotLost()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        bool replied = false;
        var ping = new Thread(() => replied = Ping(1, waitSeconds: 5)) { IsBackground = true };
        ping.Start();
        var clock = Stopwatch.StartNew();
        while (QueueProcRow()[2] == "0" && clock.ElapsedMilliseconds < 3000) Thread.Sleep(20); // wait until queued

        queue.SetMaxQueueLength(2048); // reads past the waiting packet to find its ACK
        Assert.Equal(1, queue.Counters.Requeued);

        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptEach);
        Assert.True(ping.Join(10_000), "ping did not finish");
        worker.Stop();
        Assert.True(replied, "the packet handed back with NF_REPEAT was not queued again");
        Assert.Equal(2, worker.Packets.Length); // the re-queued request and its reply
    }

    [Fact]
    public void Open_AppliesCopyPacketModeAndRange()
    {
        using NfQueue queue = OpenInRouter(new NfQueueOptions { CopyRange = 0xffff });
        string[] row = QueueProcRow();
        Assert.Equal(QueueNumber.ToString(), row[0]);
        Assert.Equal("2", row[3]);     // NFQNL_COPY_PACKET
        Assert.Equal("65531", row[4]); // the kernel clamps the range
        Assert.True(queue.SocketReceiveBufferBytes >= 8 * 1024 * 1024, $"SO_RCVBUF is {queue.SocketReceiveBufferBytes}");
    }

    [Fact]
    public void Open_WithFailOpenAndGsoFlags_Succeeds()
    {
        using NfQueue queue = OpenInRouter(new NfQueueOptions { Flags = NfQueueFlags.FailOpen | NfQueueFlags.Gso });
        queue.SetFlags(NfQueueFlags.None, NfQueueFlags.FailOpen); // clearing through the mask is accepted too
    }

    [Fact]
    public void SecondBinder_OfTheSameQueue_FailsWithEperm()
    {
        using NfQueue first = OpenInRouter();
        var e = Assert.Throws<NativeException>(() => OpenInRouter());
        Assert.Equal(1, e.Errno); // EPERM, not EBUSY
        Assert.Contains($"NFQUEUE {QueueNumber} BIND", e.Message);
    }

    [Fact]
    public void Dispose_UnbindsTheQueue()
    {
        OpenInRouter().Dispose();
        Assert.Empty(QueueProcText().Trim());
        using NfQueue again = OpenInRouter(); // the queue number is free again
    }

    [Fact]
    public void VerdictForUnknownPacket_IsCountedAsAsyncError()
    {
        using NfQueue queue = OpenInRouter();
        queue.SetVerdict(123456, NfVerdict.Accept);
        Assert.Equal(NfqReceiveResult.Received, queue.Receive(out NfqMessageReader reader, 2000));
        Assert.False(reader.TryReadPacket(out _));
        Assert.Equal(1, queue.Counters.ErrorMessages);
        Assert.Equal(2, queue.Counters.LastErrno); // ENOENT
    }

    [Fact]
    public void RequestStop_WakesABlockedReceiveWithinOneSecond()
    {
        using NfQueue queue = OpenInRouter();
        NfqReceiveResult result = NfqReceiveResult.Received;
        var thread = new Thread(() => result = queue.Receive(out _)) { IsBackground = true };
        thread.Start();
        Thread.Sleep(200);
        Assert.True(thread.IsAlive);
        var clock = Stopwatch.StartNew();
        queue.RequestStop();
        Assert.True(thread.Join(1000), "Receive did not return within 1 s of RequestStop");
        Assert.True(clock.ElapsedMilliseconds < 1000);
        Assert.Equal(NfqReceiveResult.Stopped, result);
    }

    [Fact]
    public void Receive_WithNothingQueued_TimesOut()
    {
        using NfQueue queue = OpenInRouter();
        var clock = Stopwatch.StartNew();
        Assert.Equal(NfqReceiveResult.Timeout, queue.Receive(out _, 200));
        Assert.InRange(clock.ElapsedMilliseconds, 150, 2000);
    }

    [Fact]
    public void ReceiveAndVerdictLoop_AllocatesNothingPerPacket()
    {
        QueueForwardedIcmp();
        using NfQueue queue = OpenInRouter();
        var worker = new NfqWorker(queue, NfqWorker.Policy.AcceptEach);
        bool replied = Ping(40, intervalSeconds: 0.02);
        worker.Stop();
        Assert.True(replied);
        Assert.Equal(80, worker.Packets.Length);
        Assert.True(worker.AllocatedAfterFirstPacket == 0, $"loop allocated {worker.AllocatedAfterFirstPacket} bytes over 79 packets");
    }

    private string[] QueueProcRow()
    {
        string line = QueueProcText().Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
