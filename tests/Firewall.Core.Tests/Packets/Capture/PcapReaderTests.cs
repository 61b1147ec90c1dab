using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets.Capture;

public class PcapReaderTests
{
    private static readonly byte[] Frame1 = Ethernet(Ipv4(A4, B4, ProtoUdp, Udp(1, 2, [1, 2, 3])));
    private static readonly byte[] Frame2 = Ethernet(Ipv6(A6, B6, ProtoTcp, Tcp(3, 4)));
    private static readonly byte[] RawFrame = Ipv4(A4, B4, ProtoIcmp, Icmp(8, 0, 1, 1));

    private sealed record Rec(long Ts, LinkType Link, byte[] Data, int Original, int Interface);

    private static PcapReader Reader(byte[] file, bool requireKnown = false) => new(new MemoryStream(file), "capture.pcap", requireKnown);

    private static List<Rec> ReadAll(byte[] file, bool requireKnown = false)
    {
        using var r = Reader(file, requireKnown);
        var list = new List<Rec>();
        while (r.TryRead(out var c)) list.Add(new Rec(c.TimestampNs, c.LinkType, c.Data.ToArray(), c.OriginalLength, c.InterfaceId));
        return list;
    }

    private static CaptureFormatException ReadError(byte[] file, bool requireKnown = false) =>
        Assert.Throws<CaptureFormatException>(() => ReadAll(file, requireKnown));

    // ------------------------------------------------------------ classic pcap

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Classic_MicrosecondEitherByteOrder_ReadsRecords(bool bigEndian)
    {
        var file = CaptureFileBuilder.Pcap(bigEndian, 1).Record(1_700_000_000, 123_456, Frame1).Record(1_700_000_001, 5, Frame2, 1500).ToArray();
        var recs = ReadAll(file);
        Assert.Equal(2, recs.Count);
        Assert.Equal(1_700_000_000_123_456_000L, recs[0].Ts);
        Assert.Equal(LinkType.Ethernet, recs[0].Link);
        Assert.Equal(Frame1, recs[0].Data);
        Assert.Equal(Frame1.Length, recs[0].Original);
        Assert.Equal(1_700_000_001_000_005_000L, recs[1].Ts);
        Assert.Equal(Frame2, recs[1].Data);
        Assert.Equal(1500, recs[1].Original);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Classic_NanosecondMagic_KeepsNanoseconds(bool bigEndian)
    {
        var file = CaptureFileBuilder.Pcap(bigEndian, 101, nanosecond: true).Record(10, 999_999_999, RawFrame).ToArray();
        var rec = Assert.Single(ReadAll(file));
        Assert.Equal(10_999_999_999L, rec.Ts);
        Assert.Equal(LinkType.RawIp, rec.Link);
    }

    [Theory]
    [InlineData(12u)]
    [InlineData(14u)]
    public void Classic_DltRawNumbers_MapToRawIp(uint linkType)
    {
        var rec = Assert.Single(ReadAll(CaptureFileBuilder.Pcap(false, linkType).Record(0, 0, RawFrame).ToArray()));
        Assert.Equal(LinkType.RawIp, rec.Link);
    }

    [Fact]
    public void Classic_UnknownLinkType_IsPassedThroughByDefault()
    {
        var rec = Assert.Single(ReadAll(CaptureFileBuilder.Pcap(false, 105).Record(0, 0, [1, 2]).ToArray()));
        Assert.Equal((LinkType)105, rec.Link);
    }

    [Fact]
    public void Classic_UnknownLinkType_ThrowsWhenKnownTypeRequired()
    {
        var e = ReadError(CaptureFileBuilder.Pcap(false, 105).ToArray(), requireKnown: true);
        Assert.Equal("capture.pcap: unsupported link type 105 (file header)", e.Message);
    }

    [Fact]
    public void Classic_RecordLargerThanBuffer_IsRead()
    {
        var big = new byte[300_000];
        new Random(1).NextBytes(big);
        var file = CaptureFileBuilder.Pcap(false, 1, snaplen: 400_000).Record(1, 0, Frame1).Record(2, 0, big).Record(3, 0, Frame2).ToArray();
        var recs = ReadAll(file);
        Assert.Equal(big, recs[1].Data);
        Assert.Equal(Frame2, recs[2].Data);
    }

    [Fact]
    public void Classic_RecordsFeedTheParser()
    {
        using var r = Reader(CaptureFileBuilder.Pcap(false, 1).Record(1, 0, Frame1).ToArray());
        Assert.True(r.TryRead(out var rec));
        Assert.Equal(ParseError.None, PacketParser.Parse(rec.Data, rec.LinkType, out var p));
        Assert.Equal((ushort)2, p.DstPort);
        Assert.False(r.IsPcapng);
    }

    // ------------------------------------------------------------ pcapng

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pcapng_ShbIdbEpb_EitherByteOrder(bool bigEndian)
    {
        var file = CaptureFileBuilder.Pcapng(bigEndian).Interface(1).Epb(0, 1_700_000_000_123_456UL, Frame1, 1514).ToArray();
        using var r = Reader(file);
        Assert.True(r.IsPcapng);
        Assert.True(r.TryRead(out var rec));
        Assert.Equal(1_700_000_000_123_456_000L, rec.TimestampNs); // default resolution: microseconds
        Assert.Equal(LinkType.Ethernet, rec.LinkType);
        Assert.True(rec.Data.SequenceEqual(Frame1));
        Assert.Equal(1514, rec.OriginalLength);
        Assert.Equal(0, rec.InterfaceId);
        Assert.False(r.TryRead(out _));
    }

    [Fact]
    public void Pcapng_TsResolNanoseconds_IsHonoured()
    {
        var file = CaptureFileBuilder.Pcapng(false).Interface(101, tsResolution: 9).Epb(0, 1_234_567_890_123UL, RawFrame).ToArray();
        Assert.Equal(1_234_567_890_123L, Assert.Single(ReadAll(file)).Ts);
    }

    [Fact]
    public void Pcapng_TsResolPowerOfTwo_IsHonoured()
    {
        // 2^-10 s units: 3 seconds + 512/1024 s.
        var file = CaptureFileBuilder.Pcapng(false).Interface(101, tsResolution: 0x80 | 10).Epb(0, 3 * 1024 + 512, RawFrame).ToArray();
        Assert.Equal(3_500_000_000L, Assert.Single(ReadAll(file)).Ts);
    }

    [Fact]
    public void Pcapng_TsOffset_IsAdded()
    {
        var file = CaptureFileBuilder.Pcapng(true).Interface(101, tsResolution: 3, tsOffsetSeconds: 100).Epb(0, 1500, RawFrame).ToArray();
        Assert.Equal(101_500_000_000L, Assert.Single(ReadAll(file)).Ts);
    }

    [Fact]
    public void Pcapng_InterfacesWithDifferentLinkTypes()
    {
        var file = CaptureFileBuilder.Pcapng(false).Interface(1).Interface(276).Interface(239)
            .Epb(1, 1, Sll2(RawFrame)).Epb(0, 2, Frame1).Epb(2, 3, Nflog(RawFrame)).ToArray();
        var recs = ReadAll(file);
        Assert.Equal([LinkType.LinuxSll2, LinkType.Ethernet, LinkType.Nflog], recs.Select(r => r.Link));
        Assert.Equal([1, 0, 2], recs.Select(r => r.Interface));
        foreach (var rec in recs)
            Assert.Equal(ParseError.None, PacketParser.Parse(rec.Data, rec.Link, out _));
    }

    [Fact]
    public void Pcapng_SimplePacketBlock_UsesFirstInterfaceAndSnapLength()
    {
        var file = CaptureFileBuilder.Pcapng(false).Interface(1, snaplen: 20).Spb(Frame1[..20], (uint)Frame1.Length).ToArray();
        var rec = Assert.Single(ReadAll(file));
        Assert.Equal(Frame1[..20], rec.Data);
        Assert.Equal(Frame1.Length, rec.Original);
        Assert.Equal(LinkType.Ethernet, rec.Link);
        Assert.Equal(0, rec.Ts);
    }

    [Fact]
    public void Pcapng_ObsoletePacketBlock_IsRead()
    {
        var file = CaptureFileBuilder.Pcapng(true).Interface(1).Interface(101).Pb(1, 7_000_000, RawFrame).ToArray();
        var rec = Assert.Single(ReadAll(file));
        Assert.Equal(LinkType.RawIp, rec.Link);
        Assert.Equal(1, rec.Interface);
        Assert.Equal(7_000_000_000L, rec.Ts);
        Assert.Equal(RawFrame, rec.Data);
    }

    [Fact]
    public void Pcapng_UnknownBlocks_AreSkipped()
    {
        var file = CaptureFileBuilder.Pcapng(false).Block(4, new byte[12]).Interface(1).Block(5, new byte[20])
            .Block(0x40000BAD, [1, 2, 3]).Epb(0, 1, Frame1).Block(0x0BAD, []).ToArray();
        Assert.Equal(Frame1, Assert.Single(ReadAll(file)).Data);
    }

    [Fact]
    public void Pcapng_NewSectionWithOtherByteOrder_StartsFreshInterfaces()
    {
        var first = CaptureFileBuilder.Pcapng(false).Interface(1).Epb(0, 1, Frame1).ToArray();
        var second = CaptureFileBuilder.Pcapng(true).Interface(101).Epb(0, 2, RawFrame).ToArray();
        var recs = ReadAll([.. first, .. second]);
        Assert.Equal([LinkType.Ethernet, LinkType.RawIp], recs.Select(r => r.Link));
        Assert.Equal(RawFrame, recs[1].Data);
    }

    [Fact]
    public void Pcapng_UnknownLinkType_ThrowsWhenKnownTypeRequired()
    {
        var e = ReadError(CaptureFileBuilder.Pcapng(false).Interface(1).Interface(147).Epb(0, 1, Frame1).ToArray(), requireKnown: true);
        Assert.Equal("capture.pcap: unsupported link type 147 (interface 1)", e.Message);
    }

    [Fact]
    public void Pcapng_PacketForUndescribedInterface_Throws()
    {
        var e = ReadError(CaptureFileBuilder.Pcapng(false).Interface(1).Epb(3, 1, Frame1).ToArray());
        Assert.StartsWith("capture.pcap: packet block at byte ", e.Message);
        Assert.Contains("interface 3", e.Message);
    }

    [Fact]
    public void Pcapng_BadByteOrderMagic_Throws()
    {
        var file = CaptureFileBuilder.Pcapng(false).ToArray();
        file[8] = 0x99;
        var e = Assert.Throws<CaptureFormatException>(() => Reader(file));
        Assert.Contains("bad byte-order magic", e.Message);
    }

    [Fact]
    public void Pcapng_TrailingLengthMismatch_Throws()
    {
        var file = CaptureFileBuilder.Pcapng(false).Interface(1).Block(6, new byte[24], trailingLength: 40).ToArray();
        Assert.Contains("trailing length 40 differs from leading length 36", ReadError(file).Message);
    }

    [Fact]
    public void Pcapng_AbsurdBlockLength_Throws()
    {
        var file = CaptureFileBuilder.Pcapng(false).Interface(1).U32(6).U32(0x7ffffff0).ToArray();
        Assert.Contains("absurd length 2147483632", ReadError(file).Message);
    }

    [Fact]
    public void Pcapng_EpbCapturedLengthBeyondBlock_Throws()
    {
        var file = CaptureFileBuilder.Pcapng(false).Interface(1).Epb(0, 1, Frame1).ToArray();
        // EPB captured-length field: after SHB (28) + IDB (20) + type/length (8) + ifid/ts (12).
        BitConverter.TryWriteBytes(file.AsSpan(28 + 20 + 8 + 12), 4000u);
        Assert.Contains("claims 4000 captured bytes", ReadError(file).Message);
    }

    // ------------------------------------------------------------ errors

    [Fact]
    public void Garbage_IsNotACapture()
    {
        var e = Assert.Throws<CaptureFormatException>(() => Reader([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]));
        Assert.Equal("capture.pcap: not a pcap or pcapng file (magic 0x12345678)", e.Message);
        Assert.False(e.IsTruncated);
    }

    [Fact]
    public void EmptyFile_SaysEmpty()
    {
        var e = Assert.Throws<CaptureFormatException>(() => Reader([]));
        Assert.Equal("capture.pcap: empty file, not a pcap or pcapng file", e.Message);
    }

    [Fact]
    public void TruncatedClassicHeader_SaysTruncated()
    {
        var file = CaptureFileBuilder.Pcap(false, 1).ToArray()[..10];
        var e = Assert.Throws<CaptureFormatException>(() => Reader(file));
        Assert.Equal("capture.pcap: truncated pcap file header (10 of 24 bytes)", e.Message);
        Assert.True(e.IsTruncated);
    }

    [Fact]
    public void TruncatedPcapngSectionHeader_SaysTruncated()
    {
        var file = CaptureFileBuilder.Pcapng(false).ToArray()[..20];
        var e = Assert.Throws<CaptureFormatException>(() => Reader(file));
        Assert.Contains("truncated", e.Message);
        Assert.True(e.IsTruncated);
    }

    [Fact]
    public void TruncatedFinalRecord_ThrowsAfterIntactRecords()
    {
        var file = CaptureFileBuilder.Pcap(false, 1).Record(1, 0, Frame1).Record(2, 0, Frame2).ToArray();
        using var r = Reader(file[..^5]);
        Assert.True(r.TryRead(out var first));
        Assert.True(first.Data.SequenceEqual(Frame1));
        var e = Assert.Throws<CaptureFormatException>(() => r.TryRead(out _));
        int secondStart = 24 + 16 + Frame1.Length;
        Assert.Equal($"capture.pcap: truncated record at byte {secondStart}: file ends after {Frame2.Length - 5} of {Frame2.Length} bytes", e.Message);
        Assert.True(e.IsTruncated);
    }

    [Fact]
    public void TruncatedRecordHeader_SaysTruncated()
    {
        var file = CaptureFileBuilder.Pcap(false, 1).Record(1, 0, Frame1).U32(5).ToArray();
        var e = ReadError(file);
        Assert.Equal($"capture.pcap: truncated record header at byte {24 + 16 + Frame1.Length} (4 of 16 bytes)", e.Message);
        Assert.True(e.IsTruncated);
    }

    [Fact]
    public void TruncatedPcapngBlock_SaysTruncated()
    {
        var file = CaptureFileBuilder.Pcapng(true).Interface(1).Epb(0, 1, Frame1).ToArray();
        var e = ReadError(file[..^3]);
        Assert.Contains("truncated record at byte 48", e.Message);
        Assert.True(e.IsTruncated);
    }

    [Fact]
    public void AbsurdCapturedLength_Throws()
    {
        var file = CaptureFileBuilder.Pcap(false, 1).U32(1).U32(0).U32(0xfffffff0).U32(60).ToArray();
        var e = ReadError(file);
        Assert.Equal("capture.pcap: record at byte 24 has an absurd captured length 4294967280", e.Message);
        Assert.False(e.IsTruncated);
    }

    [Fact]
    public void UnsupportedClassicVersion_Throws()
    {
        var file = CaptureFileBuilder.Pcap(false, 1).ToArray();
        file[4] = 3;
        Assert.Equal("capture.pcap: unsupported pcap version 3.4", Assert.Throws<CaptureFormatException>(() => Reader(file)).Message);
    }

    [Fact]
    public void Open_GarbageFile_MessageNamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fw-garbage-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(path, "hello world"u8.ToArray());
            var e = Assert.Throws<CaptureFormatException>(() => PcapReader.Open(path));
            Assert.Equal($"{path}: not a pcap or pcapng file (magic 0x68656c6c)", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
