using FsCheck;
using FsCheck.Fluent;
using Firewall.Core.Packets.Capture;
using static Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Packets.Capture;

public class PcapReaderPropertyTests
{
    private static readonly byte[][] Files =
    [
        CaptureFileBuilder.Pcap(false, 1).Record(1, 2, SampleFrames.All[0].Frame).Record(3, 4, SampleFrames.All[1].Frame).ToArray(),
        CaptureFileBuilder.Pcap(true, 101, nanosecond: true).Record(1, 2, SampleFrames.All[8].Frame).ToArray(),
        CaptureFileBuilder.Pcapng(false).Interface(1, tsResolution: 9, tsOffsetSeconds: 5).Interface(101)
            .Epb(0, 1, SampleFrames.All[0].Frame).Epb(1, 2, SampleFrames.All[8].Frame).Spb([1, 2, 3], 3).Pb(1, 3, [4, 5]).ToArray(),
        CaptureFileBuilder.Pcapng(true).Interface(276, snaplen: 64).Block(5, new byte[16]).Epb(0, 1, Sll2(SampleFrames.All[8].Frame)).ToArray(),
    ];

    [Fact]
    public void MutatedAndTruncatedCaptureFiles_ThrowOnlyCaptureFormatException()
    {
        var gen =
            from file in Gen.Elements(Files)
            from mutations in Gen.ListOf(Gen.Zip(Gen.Choose(0, 4095), Gen.Choose(0, 255)))
            from cut in Gen.Choose(0, 4095)
            select Mutate(file, mutations, cut);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(3000), Prop.ForAll(gen.ToArbitrary(), ReadsOrThrowsFormatError));
    }

    private static byte[] Mutate(byte[] file, IEnumerable<(int Pos, int Value)> mutations, int cut)
    {
        var b = (byte[])file.Clone();
        foreach (var (pos, value) in mutations) b[pos % b.Length] = (byte)value;
        return cut % 3 == 0 ? b[..(cut % (b.Length + 1))] : b;
    }

    private static bool ReadsOrThrowsFormatError(byte[] file)
    {
        try
        {
            using var r = new PcapReader(new MemoryStream(file), "fuzz.pcap");
            for (int i = 0; i < 100 && r.TryRead(out var rec); i++)
                if (rec.Data.Length > file.Length) throw new Exception("record longer than the file");
        }
        catch (CaptureFormatException e) when (e.Message.StartsWith("fuzz.pcap: ", StringComparison.Ordinal))
        {
        }
        return true;
    }
}
