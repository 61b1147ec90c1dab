using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets.Capture;

public class PcapWriterTests
{
    private static readonly byte[] Frame1 = Ethernet(Ipv4(A4, B4, ProtoUdp, Udp(1, 2, [1, 2, 3])));
    private static readonly byte[] Frame2 = Ethernet(Ipv6(A6, B6, ProtoTcp, Tcp(3, 4, payload: new byte[100])));

    [Fact]
    public void Header_IsLittleEndianPcap24WithLinkTypeAndSnapLength()
    {
        var ms = new MemoryStream();
        using (new PcapWriter(ms, LinkType.LinuxSll2, snaplen: 65535, nanosecond: true, leaveOpen: true)) { }
        byte[] expected = [0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0x14, 0x01, 0, 0];
        Assert.Equal(expected, ms.ToArray());
    }

    [Fact]
    public void Header_MicrosecondMagic()
    {
        var ms = new MemoryStream();
        using (new PcapWriter(ms, LinkType.Ethernet, nanosecond: false, leaveOpen: true)) { }
        Assert.Equal(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1 }, ms.ToArray()[..4]);
    }

    [Fact]
    public void Record_LayoutMatchesPcapFormat()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.RawIp, leaveOpen: true))
            w.Write(1_000_000_002_000_000_003L, [0xaa, 0xbb], originalLength: 60);
        var rec = ms.ToArray()[24..];
        byte[] expected = [0x02, 0xca, 0x9a, 0x3b, 3, 0, 0, 0, 2, 0, 0, 0, 60, 0, 0, 0, 0xaa, 0xbb]; // 1000000002 s, 3 ns
        Assert.Equal(expected, rec);
    }

    [Fact]
    public void RoundTrip_Nanosecond_PreservesEverything()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, leaveOpen: true))
        {
            w.Write(1_700_000_000_123_456_789L, Frame1);
            w.Write(1_700_000_001_000_000_001L, Frame2, originalLength: 9000);
        }
        ms.Position = 0;
        using var r = new PcapReader(ms, "rt.pcap");
        Assert.True(r.TryRead(out var a));
        Assert.Equal(1_700_000_000_123_456_789L, a.TimestampNs);
        Assert.Equal(LinkType.Ethernet, a.LinkType);
        Assert.True(a.Data.SequenceEqual(Frame1));
        Assert.Equal(Frame1.Length, a.OriginalLength);
        Assert.True(r.TryRead(out var b));
        Assert.Equal(1_700_000_001_000_000_001L, b.TimestampNs);
        Assert.True(b.Data.SequenceEqual(Frame2));
        Assert.Equal(9000, b.OriginalLength);
        Assert.False(r.TryRead(out _));
    }

    [Fact]
    public void RoundTrip_Microsecond_DropsSubMicrosecondDigits()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, nanosecond: false, leaveOpen: true))
            w.Write(1_700_000_000_123_456_789L, Frame1);
        ms.Position = 0;
        using var r = new PcapReader(ms, "rt.pcap");
        Assert.True(r.TryRead(out var a));
        Assert.Equal(1_700_000_000_123_456_000L, a.TimestampNs);
    }

    [Fact]
    public void FrameLongerThanSnapLength_IsCutKeepingOriginalLength()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, snaplen: 40, leaveOpen: true))
            w.Write(0, Frame2);
        ms.Position = 0;
        using var r = new PcapReader(ms, "cut.pcap");
        Assert.True(r.TryRead(out var a));
        Assert.True(a.Data.SequenceEqual(Frame2.AsSpan(0, 40)));
        Assert.Equal(Frame2.Length, a.OriginalLength);
    }

    [Fact]
    public void NegativeTimestamp_Throws()
    {
        using var w = new PcapWriter(new MemoryStream(), LinkType.Ethernet);
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Write(-1, Frame1));
    }

    [Fact]
    public void WriteAfterDispose_Throws()
    {
        var w = new PcapWriter(new MemoryStream(), LinkType.Ethernet);
        w.Dispose();
        Assert.Throws<ObjectDisposedException>(() => w.Write(0, Frame1));
    }

    [Fact]
    public void CreateAndOpen_RoundTripThroughAFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fw-rt-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var w = PcapWriter.Create(path, LinkType.RawIp))
                for (int i = 0; i < 100; i++) w.Write(i * 1_000_000L, Ipv4(A4, B4, ProtoUdp, Udp((ushort)i, 53)));
            using var r = PcapReader.Open(path);
            int n = 0;
            while (r.TryRead(out var rec))
            {
                Assert.Equal(n * 1_000_000L, rec.TimestampNs);
                Assert.Equal(ParseError.None, PacketParser.Parse(rec.Data, rec.LinkType, out var p));
                Assert.Equal(n, p.SrcPort);
                n++;
            }
            Assert.Equal(100, n);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
