using System.Diagnostics;
using Firewall.Integration.Tests.Lab;
using Firewall.Integration.Tests.Native.Lab;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Namespaces;
using Firewall.Native.Pcap;
using Firewall.Native.Sockets;

namespace Firewall.Integration.Tests.Native;

/// <summary>The AF_PACKET transmit ring on a veth pair (va ↔ vb) inside a private namespace, read back with libpcap.</summary>
public sealed class PacketTxRingTests : IDisposable
{
    private readonly NetLab _lab = NetLab.Create();
    private readonly string _ns;
    private readonly string _va;
    private readonly string _vb;

    public PacketTxRingTests() => (_ns, _va, _vb) = _lab.Build(lab =>
    {
        string ns = lab.AddNamespace("p");
        var (a, b) = lab.AddVethPair(ns, "a", ns, "b");
        return (ns, a, b);
    });

    public void Dispose() => _lab.Dispose();

    private static readonly PcapDeviceOptions Quick = new() { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5" };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void QueuedFrames_LeaveOnlyAtFlush_InOrderAndWhole(bool qdiscBypass)
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, Quick);
            using var ring = PacketTxRing.Open(_va, 64, qdiscBypass);
            byte[][] sent = Enumerable.Range(0, 40).Select(i => Frames.Build(Frames.MarkerType, i, 60 + i * 36)).ToArray();
            foreach (byte[] f in sent) Assert.True(ring.TryQueue(f));
            Assert.Equal(40, ring.Pending);
            Assert.Empty(Frames.Collect(reader, Frames.MarkerType, 1, 300));

            Assert.Equal(0, ring.Flush());
            Assert.Equal(0, ring.Pending);
            List<byte[]> received = Frames.Collect(reader, Frames.MarkerType, sent.Length);
            Assert.Equal(sent.Length, received.Count);
            for (int i = 0; i < sent.Length; i++) Assert.Equal(sent[i], received[i]);
        });
    }

    [Fact]
    public void ManyMoreFramesThanSlots_AllArrive()
    {
        NetNamespace.Run(_ns, () =>
        {
            // a small snaplen gives small ring slots: the 1,000 frames wait in the capture ring until read
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5", SnapLength = 128, BufferSize = 8 << 20 });
            using var ring = PacketTxRing.Open(_va, 16);
            int queued = 0;
            for (int i = 0; i < 1000; i++)
            {
                if (ring.TryQueue(Frames.Build(Frames.MarkerType, i))) queued++;
                if (i % 10 == 9) Assert.Equal(0, ring.Flush());
            }
            Assert.Equal(1000, queued);
            Assert.Equal(0, ring.RingFull);
            List<byte[]> received = Frames.Collect(reader, Frames.MarkerType, 1000, 5000);
            Assert.Equal(Enumerable.Range(0, 1000), received.Select(f => Frames.SequenceOf(f)));
        });
    }

    /// <summary>
    /// With copySingle, a flush of one frame goes out as a copy through the plain socket and its slot is taken again
    /// by the next frame; batches still go through the ring, and the order of everything sent is kept.
    /// </summary>
    [Fact]
    public void CopySingle_OneFrameFlushesGoAsCopies_BatchesThroughTheRing_AllInOrder()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5", SnapLength = 2048, BufferSize = 8 << 20 });
            using var ring = PacketTxRing.Open(_va, 16, copySingle: true);
            var sent = new List<byte[]>();
            bool Queue(int length = 60)
            {
                byte[] f = Frames.Build(Frames.MarkerType, sent.Count, length);
                sent.Add(f);
                return ring.TryQueue(f);
            }
            // 300 single flushes on a 16-slot ring (slots are given back), then batches of 3, then singles again
            for (int i = 0; i < 300; i++)
            {
                Assert.True(Queue());
                Assert.Equal(0, ring.Flush());
                Assert.Equal(0, ring.Pending);
            }
            Assert.Equal(300, ring.SingleCopies);
            for (int i = 0; i < 20; i++)
            {
                for (int j = 0; j < 3; j++) Assert.True(Queue(60 + j * 500));
                Assert.Equal(0, ring.Flush());
            }
            Assert.Equal(300, ring.SingleCopies);
            for (int i = 0; i < 40; i++)
            {
                Assert.True(Queue(60 + i * 30));
                Assert.Equal(0, ring.Flush());
            }
            Assert.Equal(340, ring.SingleCopies);
            Assert.Equal(0, ring.RingFull);

            List<byte[]> received = Frames.Collect(reader, Frames.MarkerType, sent.Count, 5000);
            Assert.Equal(sent.Count, received.Count);
            for (int i = 0; i < sent.Count; i++) Assert.Equal(sent[i], received[i]); // whole, in order
        });
    }

    [Fact]
    public void WithoutCopySingle_OneFrameFlushesUseTheRing()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, Quick);
            using var ring = PacketTxRing.Open(_va, 64);
            for (int i = 0; i < 5; i++)
            {
                Assert.True(ring.TryQueue(Frames.Build(Frames.MarkerType, i)));
                Assert.Equal(0, ring.Flush());
            }
            Assert.Equal(0, ring.SingleCopies);
            Assert.Equal(Enumerable.Range(0, 5), Frames.Collect(reader, Frames.MarkerType, 5).Select(f => Frames.SequenceOf(f)));
        });
    }

    [Fact]
    public void FrameLargerThanMtu_IsRefusedAndCounted_OthersStillGo()
    {
        NetNamespace.Run(_ns, () =>
        {
            using var reader = PcapDevice.Open(_vb, Quick);
            using var ring = PacketTxRing.Open(_va, 64);
            Assert.Equal(1500, ring.Mtu);
            Assert.True(ring.TryQueue(Frames.Build(Frames.MarkerType, 0, 1514)));
            Assert.False(ring.TryQueue(Frames.Build(Frames.MarkerType, 1, 1515)));
            Assert.False(ring.TryQueue(new byte[10]));
            Assert.True(ring.TryQueue(Frames.Build(Frames.MarkerType, 2)));
            Assert.Equal(2, ring.WrongSize);
            Assert.Equal(0, ring.Flush());
            Assert.Equal([0, 2], Frames.Collect(reader, Frames.MarkerType, 2).Select(f => Frames.SequenceOf(f)));
        });
    }

    [Fact]
    public void Open_UnknownInterface_ThrowsNoSuchDevice()
    {
        var e = NetNamespace.Run(_ns, () => Assert.Throws<NativeException>(() => PacketTxRing.Open(_lab.Name("zz"))));
        Assert.Equal(19, e.Errno); // ENODEV
        Assert.Contains(_lab.Name("zz"), e.Message);
    }

    [Fact]
    public void GetMtu_ReadsTheInterfaceMtu()
    {
        _lab.Run(_ns, "ip", "link", "set", _va, "mtu", "1400").ThrowIfFailed();
        Assert.Equal(1400, NetNamespace.Run(_ns, () => NetDevice.GetMtu(_va)));
        Assert.Throws<NativeException>(() => NetNamespace.Run(_ns, () => NetDevice.GetMtu(_lab.Name("zz"))));
    }

    /// <summary>
    /// A capture handle on the sending interface sees the ring's frames (and single frames sent by copy) as outgoing
    /// (libpcap's direction filter works only after the kernel copied them); PACKET_IGNORE_OUTGOING stops the copy itself.
    /// </summary>
    [Fact]
    public void IgnoreOutgoing_HidesFramesSentThroughTheRing()
    {
        NetNamespace.Run(_ns, () =>
        {
            var inOut = new PcapDeviceOptions { TimeoutMilliseconds = 50, Filter = "ether proto 0x88b5", Direction = PcapDirection.InOut };
            using var seesAll = PcapDevice.Open(_va, inOut);
            using var ignoring = PcapDevice.Open(_va, inOut);
            ignoring.IgnoreOutgoing();
            using var ring = PacketTxRing.Open(_va, 64, copySingle: true);
            for (int i = 0; i < 5; i++) ring.TryQueue(Frames.Build(Frames.MarkerType, i));
            Assert.Equal(0, ring.Flush());
            ring.TryQueue(Frames.Build(Frames.MarkerType, 5)); // and a single frame, sent by copy
            Assert.Equal(0, ring.Flush());
            Assert.Equal(1, ring.SingleCopies);

            Assert.Equal(6, Frames.Collect(seesAll, Frames.MarkerType, 6).Count);
            Assert.Empty(Frames.Collect(ignoring, Frames.MarkerType, 1, 500));
            Assert.Equal(0u, ignoring.GetStatistics().Received);
        });
    }
}
