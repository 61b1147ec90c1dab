using FsCheck;
using FsCheck.Fluent;
using Firewall.Core.Packets;

namespace Firewall.Core.Tests.Packets;

public class PacketParserPropertyTests
{
    private static readonly LinkType[] Links =
        [LinkType.Ethernet, LinkType.RawIp, LinkType.Ipv4, LinkType.Ipv6, LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Nflog, (LinkType)999];

    private static readonly Config Cfg = Config.QuickThrowOnFailure.WithMaxTest(3000);

    [Fact]
    public void SampleFrames_AllParseCleanly()
    {
        foreach (var (link, frame) in SampleFrames.All)
        {
            var e = PacketParser.Parse(frame, link, out var p);
            Assert.True(e is ParseError.None or ParseError.NotIp, $"{link} frame of {frame.Length} bytes: {e}");
            Assert.True(Violation(p, frame.Length) is null, Violation(p, frame.Length));
            if (p.InnerL3Offset != 0)
                Assert.Equal(ParseError.None, PacketParser.ParseEmbedded(in p, out _));
        }
    }

    [Fact]
    public void RandomBytes_NeverThrow_AndOffsetsStayInFrame()
    {
        var gen =
            from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))
            from link in Gen.Elements(Links)
            select (bytes, link);
        Check.One(Cfg, Prop.ForAll(gen.ToArbitrary(), t => Holds(t.bytes, t.link)));
    }

    [Fact]
    public void RandomBytesAfterValidLinkHeader_NeverThrow_AndOffsetsStayInFrame()
    {
        // Plausible starts (right version nibble, IP EtherType) reach deeper code than uniform noise.
        var gen =
            from sample in Gen.Elements(SampleFrames.All)
            from keep in Gen.Choose(0, 60)
            from tail in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))
            select (Concat(sample.Frame.AsSpan(0, Math.Min(keep, sample.Frame.Length)), tail), sample.Link);
        Check.One(Cfg, Prop.ForAll(gen.ToArbitrary(), t => Holds(t.Item1, t.Link)));
    }

    [Fact]
    public void MutatedAndTruncatedValidFrames_NeverThrow_AndOffsetsStayInFrame()
    {
        var gen =
            from sample in Gen.Elements(SampleFrames.All)
            from mutations in Gen.ListOf(Gen.Zip(Gen.Choose(0, 4095), Gen.Choose(0, 255)))
            from cut in Gen.Choose(0, 4095)
            from cutIt in Gen.Elements(true, false)
            from link in Gen.Frequency((3, Gen.Constant(sample.Link)), (1, Gen.Elements(Links)))
            select (Mutate(sample.Frame, mutations, cutIt ? cut : -1), link);
        Check.One(Cfg, Prop.ForAll(gen.ToArbitrary(), t => Holds(t.Item1, t.link)));
    }

    [Fact]
    public void EveryTruncationOfEverySample_NeverThrows_AndOffsetsStayInFrame()
    {
        foreach (var (link, frame) in SampleFrames.All)
            for (int n = 0; n <= frame.Length; n++)
                Assert.True(Holds(frame[..n], link), $"{link} sample cut to {n} bytes");
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, byte[] b) => [.. a, .. b];

    internal static byte[] Mutate(byte[] frame, IEnumerable<(int Pos, int Value)> mutations, int cut)
    {
        var b = (byte[])frame.Clone();
        foreach (var (pos, value) in mutations)
            if (b.Length > 0) b[pos % b.Length] = (byte)value;
        return cut >= 0 && b.Length > 0 ? b[..(cut % (b.Length + 1))] : b;
    }

    private static bool Holds(byte[] frame, LinkType link)
    {
        var e = PacketParser.Parse(frame, link, out var p);
        string? v = Violation(p, frame.Length) ?? (p.Error == e ? null : "Error field differs from the result");
        if (v is null && p.InnerL3Offset != 0)
        {
            PacketParser.ParseEmbedded(frame, p.InnerL3Offset, out var inner);
            v = Violation(inner, frame.Length);
            PacketParser.ParseEmbedded(in p, out var bounded);
            v ??= Violation(bounded, p.L3Offset + p.L3Length);
        }
        if (v is null && p.IsIp)
        {
            PacketParser.Ipv4HeaderChecksumOk(ref p);
            if (e == ParseError.None && p.L4Length > 0) Checksum.VerifyL4(ref p);
        }
        if (v is not null) throw new Exception($"{v} (link {link}, frame {Convert.ToHexString(frame)})");
        return true;
    }

    /// <summary>Describes the first reported offset/length that lies outside the first <paramref name="limit"/> bytes, or null.</summary>
    internal static string? Violation(in ParsedPacket p, int limit)
    {
        static bool In(int off, int len, int limit) => off >= 0 && len >= 0 && off <= limit && len <= limit - off;

        if (!In(p.NflogPrefixOffset, p.NflogPrefixLength, limit)) return "NFLOG prefix";
        if (!p.IsIp) return p.L3Length == 0 && p.L4Length == 0 && p.PayloadLength == 0 ? null : "non-IP with lengths";
        if (!In(p.L3Offset, p.L3Length, limit)) return "L3";
        if (!In(p.L3Offset, p.L3HeaderLength, limit)) return "L3 header";
        if (p.Error == ParseError.None && p.L3HeaderLength > p.L3Length) return "L3 header beyond L3 length";
        if (!In(p.L4Offset, p.L4Length, limit)) return "L4";
        if (!In(p.PayloadOffset, p.PayloadLength, limit)) return "payload";
        if (p.L4Length > 0 && (p.PayloadOffset < p.L4Offset || p.PayloadOffset + p.PayloadLength > p.L4Offset + p.L4Length)) return "payload outside L4";
        if (p.Error == ParseError.None && p.L4Length > 0 && p.L4Offset + p.L4Length != p.L3Offset + p.L3Length) return "L4 does not end with L3";
        if (p.SackBlockCount < 0 || !In(p.SackBlocksOffset, 8 * p.SackBlockCount, limit)) return "SACK blocks";
        if (p.SackBlockCount > 0 && p.SackBlocksOffset + 8 * p.SackBlockCount > p.L4Offset + p.TcpHeaderLength) return "SACK beyond TCP header";
        if (p.InnerL3Offset != 0 && (p.InnerL3Offset < p.L4Offset || p.InnerL3Offset >= p.L4Offset + p.L4Length)) return "inner L3 offset";
        _ = p.Payload.Length + p.L4.Length; // the accessors must not throw
        return null;
    }
}
