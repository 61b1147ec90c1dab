using Firewall.Integration.Tests.Native.Lab;
using Firewall.Native.Pcap;

namespace Firewall.Integration.Tests.Native;

/// <summary>PcapDumpWriter → PcapOfflineReader round trips (no root needed, but they run with the rest).</summary>
public sealed class PcapFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fw-pcap-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(int count, out long[] timestamps)
    {
        string path = Path.Combine(_dir, "frames.pcap");
        timestamps = new long[count];
        using var writer = PcapDumpWriter.Create(path);
        for (int i = 0; i < count; i++)
        {
            timestamps[i] = 1_700_000_000_123_456_789L + i * 1_000_001L;
            writer.Write(Frames.Build(i % 3 == 0 ? Frames.OtherType : Frames.MarkerType, i, 60 + i % 7), timestamps[i]);
        }
        return path;
    }

    [Fact]
    public void OfflineReader_ReturnsFramesWrittenByDumpWriter_WithNanosecondTimestamps()
    {
        string path = WriteFile(50, out long[] timestamps);
        using var reader = PcapOfflineReader.Open(path);
        Assert.Equal(1, reader.DataLinkType);
        Assert.True(reader.NanosecondTimestamps);

        int n = 0;
        while (reader.ReadNext(out PcapFrame frame) == PcapReadResult.Frame)
        {
            Assert.Equal(Frames.Build(n % 3 == 0 ? Frames.OtherType : Frames.MarkerType, n, 60 + n % 7), frame.Data.ToArray());
            Assert.Equal(timestamps[n], frame.TimestampNanoseconds);
            Assert.Equal(frame.Data.Length, frame.OriginalLength);
            n++;
        }
        Assert.Equal(50, n);
        Assert.Equal(PcapReadResult.EndOrBreak, reader.ReadNext(out _));
    }

    [Fact]
    public void DumpWriter_RecordsOriginalLengthOfTruncatedFrames()
    {
        string path = Path.Combine(_dir, "trunc.pcap");
        using (var writer = PcapDumpWriter.Create(path))
            writer.Write(Frames.Build(Frames.MarkerType, 1, 64), 5_000_000_000L, originalLength: 1500);
        using var reader = PcapOfflineReader.Open(path);
        Assert.Equal(PcapReadResult.Frame, reader.ReadNext(out PcapFrame frame));
        Assert.Equal(64, frame.Data.Length);
        Assert.Equal(1500, frame.OriginalLength);
        Assert.Equal(5_000_000_000L, frame.TimestampNanoseconds);
    }

    [Fact]
    public void OfflineReader_WithFilter_ReturnsOnlyMatchingFrames()
    {
        string path = WriteFile(30, out _);
        using var reader = PcapOfflineReader.Open(path);
        reader.SetFilter("ether proto 0x88b6");
        var sequences = new List<int>();
        while (reader.ReadNext(out PcapFrame frame) == PcapReadResult.Frame) sequences.Add(Frames.SequenceOf(frame.Data));
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i % 3 == 0), sequences);
    }

    [Fact]
    public void OfflineReader_MissingFile_ThrowsWithPcapMessage()
    {
        string path = Path.Combine(_dir, "absent.pcap");
        var e = Assert.Throws<PcapException>(() => PcapOfflineReader.Open(path));
        Assert.Contains("No such file or directory", e.PcapMessage);
        Assert.Contains(path, e.PcapMessage);
    }

    [Fact]
    public void OfflineDispatch_OverWholeFile_AllocatesNothing()
    {
        string path = WriteFile(5000, out _);
        using var reader = PcapOfflineReader.Open(path);
        var handler = new LengthSum();
        reader.Dispatch(handler, 1); // warm-up
        reader.ReadNext(out _);
        handler.Frames = 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        int rc;
        while ((rc = reader.Dispatch(handler, 100)) > 0) { }
        while (reader.ReadNext(out PcapFrame f) == PcapReadResult.Frame) handler.OnFrame(f);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, rc);
        Assert.Equal(4998, handler.Frames);
        Assert.True(allocated == 0, $"offline read of 4998 frames allocated {allocated} bytes");
    }

    private sealed class LengthSum : IPcapFrameHandler
    {
        public int Frames;
        public long Bytes;

        public void OnFrame(in PcapFrame frame)
        {
            Frames++;
            Bytes += frame.Data.Length;
        }
    }
}
