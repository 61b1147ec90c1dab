using System.Diagnostics;
using Firewall.Integration.Tests.Lab;
using Firewall.Integration.Tests.Native.Lab;
using Firewall.Native;
using Firewall.Native.Namespaces;
using Firewall.Native.Pcap;

namespace Firewall.Integration.Tests.Native;

/// <summary>Live libpcap handles on a veth pair (va ↔ vb) inside a private namespace.</summary>
public sealed class PcapDeviceTests : IDisposable
{
    private readonly NetLab _lab = NetLab.Create();
    private readonly string _ns;
    private readonly string _va;
    private readonly string _vb;

    public PcapDeviceTests() => (_ns, _va, _vb) = _lab.Build(lab =>
    {
        string ns = lab.AddNamespace("p");
        var (a, b) = lab.AddVethPair(ns, "a", ns, "b");
        return (ns, a, b);
    });

    public void Dispose() => _lab.Dispose();

    private static readonly PcapDeviceOptions Quick = new() { TimeoutMilliseconds = 50 };

    [Fact]
    public void InjectedFrames_AreReceivedOnPeer_WithDirectionIn()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, Quick);
            using var injector = PcapDevice.Open(_va, Quick);
            byte[][] sent = Enumerable.Range(0, 5).Select(i => Frames.Build(Frames.MarkerType, i)).ToArray();
            foreach (byte[] f in sent) injector.Inject(f);

            var received = new List<(byte[] Data, long Ts, int Len)>();
            var clock = Stopwatch.StartNew();
            while (received.Count < sent.Length && clock.ElapsedMilliseconds < 2000)
                if (reader.ReadNext(out PcapFrame frame) == PcapReadResult.Frame && Frames.TypeOf(frame.Data) == Frames.MarkerType)
                    received.Add((frame.Data.ToArray(), frame.TimestampNanoseconds, frame.OriginalLength));

            Assert.Equal(sent.Length, received.Count);
            for (int i = 0; i < sent.Length; i++)
            {
                Assert.Equal(sent[i], received[i].Data);
                Assert.Equal(sent[i].Length, received[i].Len);
                Assert.InRange(received[i].Ts, before - 1_000_000_000, before + 10_000_000_000);
            }
            Assert.True(reader.NanosecondTimestamps);
        });
    }

    [Fact]
    public void DirectionIn_HidesFramesAnotherHandleInjectedOnTheSameInterface()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var inOut = PcapDevice.Open(_va, new PcapDeviceOptions { TimeoutMilliseconds = 50, Direction = PcapDirection.InOut });
            using var inOnly = PcapDevice.Open(_va, new PcapDeviceOptions { TimeoutMilliseconds = 50, Direction = PcapDirection.In });
            using var injector = PcapDevice.Open(_va, Quick);
            for (int i = 0; i < 5; i++) injector.Inject(Frames.Build(Frames.MarkerType, i));

            Assert.Equal(5, Frames.Collect(inOut, Frames.MarkerType, 5).Count);
            Assert.Empty(Frames.Collect(inOnly, Frames.MarkerType, 1, 500));
        });
    }

    [Fact]
    public void Filter_PassesOnlyMatchingFrames()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5" });
            using var injector = PcapDevice.Open(_va, Quick);
            for (int i = 0; i < 10; i++) injector.Inject(Frames.Build(i % 2 == 0 ? Frames.MarkerType : Frames.OtherType, i));

            var all = new List<byte[]>();
            var clock = Stopwatch.StartNew();
            while (clock.ElapsedMilliseconds < 700)
                if (reader.ReadNext(out PcapFrame frame) == PcapReadResult.Frame) all.Add(frame.Data.ToArray());

            Assert.Equal([0, 2, 4, 6, 8], all.Select(f => Frames.SequenceOf(f)));
            Assert.All(all, f => Assert.Equal(Frames.MarkerType, Frames.TypeOf(f)));
        });
    }

    [Fact]
    public void Statistics_CountReceivedFrames()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5" });
            using var injector = PcapDevice.Open(_va, Quick);
            PcapStatistics before = reader.GetStatistics();
            for (int i = 0; i < 20; i++) injector.Inject(Frames.Build(Frames.MarkerType, i));
            Assert.Equal(20, Frames.Collect(reader, Frames.MarkerType, 20).Count);

            PcapStatistics after = reader.GetStatistics();
            Assert.Equal(0u, before.Received);
            Assert.Equal(20u, after.Received);
            Assert.Equal(0u, after.Dropped);
        });
    }

    [Theory]
    [InlineData(0)]     // libpcap blocks forever; pcap_breakloop wakes it
    [InlineData(5000)]  // emulated timeout; our break signal wakes it
    public void BreakLoop_ReturnsBlockedDispatchWithinOneSecond(int timeoutMilliseconds)
    {
        using PcapDevice reader = NetNamespace.Run(_ns, () =>
            PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = timeoutMilliseconds, Filter = "ether proto 0x88b5" }));
        int result = int.MinValue;
        var handler = new CountingHandler();
        var thread = new Thread(() => result = reader.Dispatch(handler)) { IsBackground = true };
        thread.Start();
        Thread.Sleep(300);
        Assert.True(thread.IsAlive, "dispatch with timeout 0 should block while nothing arrives");

        var clock = Stopwatch.StartNew();
        reader.BreakLoop();
        Assert.True(thread.Join(1000), "dispatch did not return within 1 s of pcap_breakloop");
        Assert.True(clock.ElapsedMilliseconds < 1000);
        Assert.Equal(PcapHandle.LoopBroken, result);
    }

    [Fact]
    public void ReadNext_WithTimeoutAndNoMatchingTraffic_ReturnsTimeout()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 100, Filter = "ether proto 0x88b5" });
            var clock = Stopwatch.StartNew();
            Assert.Equal(PcapReadResult.Timeout, reader.ReadNext(out _));
            Assert.Equal(0, reader.Dispatch(new CountingHandler()));
            Assert.InRange(clock.ElapsedMilliseconds, 150, 1500);
        });
    }

    [Fact]
    public void BreakLoop_BeforeRead_BreaksExactlyOneRead()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5" });
            reader.BreakLoop();
            Assert.Equal(PcapReadResult.EndOrBreak, reader.ReadNext(out _));
            Assert.Equal(PcapReadResult.Timeout, reader.ReadNext(out _));
        });
    }

    [Fact]
    public void Open_UnknownDevice_ThrowsNoSuchDeviceWithPcapMessage()
    {
        var e = NetNamespace.Run(_ns, () => Assert.Throws<PcapException>(() => PcapDevice.Open(_lab.Name("zz"))));
        Assert.Equal(-5, e.Status); // PCAP_ERROR_NO_SUCH_DEVICE
        Assert.Contains("No such device", e.PcapMessage);
        Assert.Contains(_lab.Name("zz"), e.Message);
    }

    [Fact]
    public void SetFilter_BadExpression_ThrowsWithCompilerMessage()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, Quick);
            var e = Assert.Throws<PcapException>(() => reader.SetFilter("port nonsense"));
            Assert.Contains("nonsense", e.PcapMessage);
            Assert.Equal(-1, e.Status);
        });
    }

    [Fact]
    public void Inject_FrameLargerThanMtu_ReportsPcapSendError()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var injector = PcapDevice.Open(_va, Quick);
            injector.Inject(Frames.Build(Frames.MarkerType, 0, 1514)); // MTU 1500 + 14 fits
            Assert.False(injector.TryInject(Frames.Build(Frames.MarkerType, 1, 1515)));
            var e = Assert.Throws<PcapException>(() => injector.Inject(Frames.Build(Frames.MarkerType, 2, 1515)));
            Assert.Contains("Message too long", e.PcapMessage);
        });
    }

    [Fact]
    public void ListDeviceNames_InsideNamespace_IncludesTheVethEnds()
    {
        string[] names = NetNamespace.Run(_ns, PcapDevice.ListDeviceNames);
        Assert.Contains(_va, names);
        Assert.Contains(_vb, names);
    }

    [Fact]
    public void Dispatch_DeliversFramesToHandlerAndReturnsCount()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5" });
            using var injector = PcapDevice.Open(_va, Quick);
            for (int i = 0; i < 8; i++) injector.Inject(Frames.Build(Frames.MarkerType, i));

            var handler = new CountingHandler();
            int total = 0;
            var clock = Stopwatch.StartNew();
            while (handler.Count < 8 && clock.ElapsedMilliseconds < 2000) total += reader.Dispatch(handler);
            Assert.Equal(8, handler.Count);
            Assert.Equal(8, total);
            Assert.Equal(0 + 1 + 2 + 3 + 4 + 5 + 6 + 7, handler.SequenceSum);
        });
    }

    [Fact]
    public void Dispatch_HandlerException_StopsDispatchAndIsRethrown()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5" });
            using var injector = PcapDevice.Open(_va, Quick);
            for (int i = 0; i < 4; i++) injector.Inject(Frames.Build(Frames.MarkerType, i));
            Thread.Sleep(100);

            var handler = new ThrowingHandler();
            var e = Assert.Throws<InvalidOperationException>(() => reader.Dispatch(handler));
            Assert.Equal("handler failed on frame 0", e.Message);
            Assert.Equal(1, handler.Calls);
            // The handle stays usable: the remaining frames come with the next dispatch.
            var counting = new CountingHandler();
            reader.Dispatch(counting);
            Assert.Equal(3, counting.Count);
        });
    }

    [Fact]
    public void NonBlocking_WaitForFrames_ReportsTimeoutThenReadableThenStopped()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var stop = new StopEvent();
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { NonBlocking = true, Filter = "ether proto 0x88b5" });
            using var injector = PcapDevice.Open(_va, Quick);
            var handler = new CountingHandler();

            Assert.Equal(WaitResult.Timeout, reader.WaitForFrames(stop, 100));
            Assert.Equal(0, reader.Dispatch(handler));

            injector.Inject(Frames.Build(Frames.MarkerType, 7));
            Assert.Equal(WaitResult.Readable, reader.WaitForFrames(stop, 2000));
            Assert.Equal(1, reader.Dispatch(handler));

            stop.Set();
            Assert.Equal(WaitResult.Stopped, reader.WaitForFrames(stop, 2000));
        });
    }

    [Fact]
    public void DispatchLoop_OverManyFrames_AllocatesNothing()
    {
        NetNamespace.Run(_ns, () =>
        {
            const int FrameCount = 2000;
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions
            {
                // Small snap length: with offloads on, libpcap sizes every ring slot for 64 KB frames otherwise.
                NonBlocking = true, Filter = "ether proto 0x88b5", SnapLength = 256, BufferSize = 8 * 1024 * 1024,
            });
            using var injector = PcapDevice.Open(_va, Quick);
            var handler = new CountingHandler();

            // Warm-up: JIT and first-call paths.
            injector.Inject(Frames.Build(Frames.MarkerType, 0));
            Thread.Sleep(50);
            reader.Dispatch(handler);
            reader.ReadNext(out _);
            handler.Reset();

            byte[] frame = Frames.Build(Frames.MarkerType, 1);
            for (int i = 0; i < FrameCount; i++) injector.Inject(frame);
            Thread.Sleep(200);

            long before = GC.GetAllocatedBytesForCurrentThread();
            int loops = 0;
            while (handler.Count < FrameCount && loops++ < 10_000) reader.Dispatch(handler);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(FrameCount, handler.Count);
            Assert.True(allocated == 0, $"receive loop over {FrameCount} frames allocated {allocated} bytes");
        });
    }

    private sealed class CountingHandler : IPcapFrameHandler
    {
        public int Count;
        public long SequenceSum;

        public void OnFrame(in PcapFrame frame)
        {
            Count++;
            SequenceSum += Frames.SequenceOf(frame.Data);
        }

        public void Reset() => (Count, SequenceSum) = (0, 0);
    }

    private sealed class ThrowingHandler : IPcapFrameHandler
    {
        public int Calls;

        public void OnFrame(in PcapFrame frame) => throw new InvalidOperationException($"handler failed on frame {Calls++}");
    }
}
