using System.Buffers.Binary;

namespace Firewall.Core.Packets.Capture;

/// <summary>
/// Reads classic pcap (either byte order, micro- or nanosecond timestamps) and pcapng (sections of either byte order,
/// any number of interfaces with their own link types and timestamp resolutions; enhanced, simple and obsolete packet
/// blocks; other blocks skipped) from a <see cref="Stream"/>. One buffer is reused for every record.
/// Malformed input throws <see cref="CaptureFormatException"/> naming the file and the problem.
/// </summary>
public sealed class PcapReader : IDisposable
{
    /// <summary>Largest record or block accepted; anything longer is treated as corruption.</summary>
    public const int MaxRecordLength = 16 * 1024 * 1024;

    private const uint MagicMicro = 0xa1b2c3d4;
    private const uint MagicNano = 0xa1b23c4d;
    private const uint BlockShb = 0x0a0d0d0a;
    private const uint BlockIdb = 1;
    private const uint BlockPb = 2;
    private const uint BlockSpb = 3;
    private const uint BlockEpb = 6;
    private const uint ByteOrderMagic = 0x1a2b3c4d;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _requireKnownLinkType;
    private readonly byte[] _header = new byte[24];
    private byte[] _buffer = new byte[64 * 1024];
    private long _position;
    private bool _bigEndian;

    // classic pcap
    private bool _nanosecond;
    private LinkType _classicLinkType;

    // pcapng: interfaces of the current section
    private readonly List<Interface> _interfaces = [];

    private readonly record struct Interface(LinkType LinkType, uint SnapLength, byte TsResolution, long TsOffsetSeconds);

    /// <summary>The name used in error messages (the path for <see cref="Open"/>).</summary>
    public string Name { get; }

    /// <summary>True for pcapng, false for classic pcap.</summary>
    public bool IsPcapng { get; }

    /// <summary>Opens a file for reading (the file name appears in error messages).</summary>
    /// <param name="requireKnownLinkType">Throw when an interface's link type is not one <see cref="LinkType"/> names.</param>
    public static PcapReader Open(string path, bool requireKnownLinkType = false)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            return new PcapReader(fs, path, requireKnownLinkType);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Reads the file header from <paramref name="stream"/>; <paramref name="name"/> is used in error messages.</summary>
    /// <param name="requireKnownLinkType">Throw when an interface's link type is not one <see cref="LinkType"/> names.</param>
    /// <param name="leaveOpen">Do not dispose <paramref name="stream"/> with the reader.</param>
    public PcapReader(Stream stream, string name, bool requireKnownLinkType = false, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        Name = name;
        _requireKnownLinkType = requireKnownLinkType;
        _leaveOpen = leaveOpen;

        int n = Read(_header.AsSpan(0, 4));
        if (n == 0) throw Error("empty file, not a pcap or pcapng file");
        if (n < 4) throw Error($"not a pcap or pcapng file (only {n} bytes)");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(_header);
        switch (magic)
        {
            case MagicMicro:
            case MagicNano:
                ReadClassicHeader(bigEndian: false, nanosecond: magic == MagicNano);
                break;
            case var m when m == BinaryPrimitives.ReverseEndianness(MagicMicro) || m == BinaryPrimitives.ReverseEndianness(MagicNano):
                ReadClassicHeader(bigEndian: true, nanosecond: m == BinaryPrimitives.ReverseEndianness(MagicNano));
                break;
            case BlockShb:
                IsPcapng = true;
                ReadSectionHeader(0);
                break;
            default:
                throw Error($"not a pcap or pcapng file (magic 0x{BinaryPrimitives.ReadUInt32BigEndian(_header):x8})");
        }
    }

    /// <summary>Reads the next frame. False at the clean end of the file. The record's data is valid until the next call.</summary>
    public bool TryRead(out CaptureRecord record) => IsPcapng ? TryReadPcapng(out record) : TryReadClassic(out record);

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    // ------------------------------------------------------------ classic pcap

    private void ReadClassicHeader(bool bigEndian, bool nanosecond)
    {
        _bigEndian = bigEndian;
        _nanosecond = nanosecond;
        int n = Read(_header.AsSpan(4, 20));
        if (n < 20) throw Error($"truncated pcap file header ({4 + n} of 24 bytes)", truncated: true);
        ushort major = U16(_header.AsSpan(4)), minor = U16(_header.AsSpan(6));
        if (major != 2) throw Error($"unsupported pcap version {major}.{minor}");
        uint network = U32(_header.AsSpan(20));
        _classicLinkType = CheckLinkType(network & 0xffff, "file header");
    }

    private bool TryReadClassic(out CaptureRecord record)
    {
        record = default;
        long at = _position;
        int n = Read(_header.AsSpan(0, 16));
        if (n == 0) return false;
        if (n < 16) throw Error($"truncated record header at byte {at} ({n} of 16 bytes)", truncated: true);
        uint seconds = U32(_header), fraction = U32(_header.AsSpan(4));
        uint captured = U32(_header.AsSpan(8)), original = U32(_header.AsSpan(12));
        if (captured > MaxRecordLength) throw Error($"record at byte {at} has an absurd captured length {captured}");
        var data = ReadData((int)captured, at);
        long ns = seconds * 1_000_000_000L + (_nanosecond ? fraction : fraction * 1000L);
        record = new CaptureRecord(ns, _classicLinkType, data, ClampLength(original), 0);
        return true;
    }

    // ------------------------------------------------------------ pcapng

    /// <summary>Reads the rest of a section header block whose 4-byte type was read at <paramref name="blockStart"/>.</summary>
    private void ReadSectionHeader(long blockStart)
    {
        int n = Read(_header.AsSpan(4, 8));
        if (n < 8) throw Error($"truncated pcapng section header at byte {blockStart}", truncated: true);
        uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(8));
        if (bom == ByteOrderMagic) _bigEndian = false;
        else if (bom == BinaryPrimitives.ReverseEndianness(ByteOrderMagic)) _bigEndian = true;
        else throw Error($"pcapng section header at byte {blockStart} has a bad byte-order magic 0x{BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(8)):x8}");
        uint total = U32(_header.AsSpan(4));
        CheckBlockLength(total, 28, blockStart);
        var body = ReadBlockRest((int)total - 12, total, blockStart); // version, section length, options, trailing length
        ushort major = U16(body), minor = U16(body.Slice(2));
        if (major != 1) throw Error($"unsupported pcapng version {major}.{minor} at byte {blockStart}");
        _interfaces.Clear();
    }

    private bool TryReadPcapng(out CaptureRecord record)
    {
        record = default;
        while (true)
        {
            long at = _position;
            int n = Read(_header.AsSpan(0, 4));
            if (n == 0) return false;
            if (n < 4) throw Error($"truncated block header at byte {at} ({n} of 8 bytes)", truncated: true);
            uint type = U32(_header);
            if (type == BlockShb)
            {
                ReadSectionHeader(at);
                continue;
            }
            n = Read(_header.AsSpan(4, 4));
            if (n < 4) throw Error($"truncated block header at byte {at} ({4 + n} of 8 bytes)", truncated: true);
            uint total = U32(_header.AsSpan(4));
            CheckBlockLength(total, 12, at);
            var body = ReadBlockRest((int)total - 8, total, at);
            body = body.Slice(0, body.Length - 4); // without the trailing length
            switch (type)
            {
                case BlockIdb:
                    AddInterface(body, at);
                    break;
                case BlockEpb:
                    if (body.Length < 20) throw Error($"enhanced packet block at byte {at} is too short ({total} bytes)");
                    record = Packet(body, (int)U32(body), U32(body.Slice(4)), U32(body.Slice(8)), U32(body.Slice(12)), U32(body.Slice(16)), 20, at);
                    return true;
                case BlockPb:
                    if (body.Length < 20) throw Error($"packet block at byte {at} is too short ({total} bytes)");
                    record = Packet(body, U16(body), U32(body.Slice(4)), U32(body.Slice(8)), U32(body.Slice(12)), U32(body.Slice(16)), 20, at);
                    return true;
                case BlockSpb:
                {
                    if (body.Length < 4) throw Error($"simple packet block at byte {at} is too short ({total} bytes)");
                    if (_interfaces.Count == 0) throw Error($"simple packet block at byte {at} comes before any interface description");
                    uint original = U32(body);
                    uint snap = _interfaces[0].SnapLength;
                    int captured = (int)Math.Min(Math.Min(original, snap == 0 ? uint.MaxValue : snap), (uint)(body.Length - 4));
                    record = new CaptureRecord(0, _interfaces[0].LinkType, body.Slice(4, captured), ClampLength(original), 0);
                    return true;
                }
                default:
                    break; // name resolution, statistics, custom, decryption secrets…: not needed
            }
        }
    }

    private CaptureRecord Packet(ReadOnlySpan<byte> body, int interfaceId, uint tsHigh, uint tsLow, uint captured, uint original, int dataOffset, long at)
    {
        if ((uint)interfaceId >= (uint)_interfaces.Count)
            throw Error($"packet block at byte {at} refers to interface {interfaceId}, but only {_interfaces.Count} are described");
        if (captured > (uint)(body.Length - dataOffset))
            throw Error($"packet block at byte {at} claims {captured} captured bytes but holds {body.Length - dataOffset}");
        var ifc = _interfaces[interfaceId];
        long ns = ToNanoseconds(((ulong)tsHigh << 32) | tsLow, ifc.TsResolution) + ifc.TsOffsetSeconds * 1_000_000_000L;
        return new CaptureRecord(ns, ifc.LinkType, body.Slice(dataOffset, (int)captured), ClampLength(original), interfaceId);
    }

    private void AddInterface(ReadOnlySpan<byte> body, long at)
    {
        if (body.Length < 8) throw Error($"interface description block at byte {at} is too short");
        var link = CheckLinkType(U16(body), $"interface {_interfaces.Count}");
        uint snap = U32(body.Slice(4));
        byte tsResolution = 6;
        long tsOffset = 0;
        var options = body.Slice(8);
        while (options.Length >= 4)
        {
            ushort code = U16(options), length = U16(options.Slice(2));
            if (code == 0 || length > options.Length - 4) break; // opt_endofopt, or a malformed option: ignore the rest
            var value = options.Slice(4, length);
            if (code == 9 && length >= 1) tsResolution = value[0]; // if_tsresol
            else if (code == 14 && length >= 8) tsOffset = (long)U64(value); // if_tsoffset, seconds
            options = options.Slice(Math.Min(options.Length, 4 + ((length + 3) & ~3)));
        }
        _interfaces.Add(new Interface(link, snap, tsResolution, tsOffset));
    }

    /// <summary>Converts a timestamp in units of if_tsresol (10^-n, or 2^-n when the top bit is set) to nanoseconds.</summary>
    internal static long ToNanoseconds(ulong ts, byte resolution)
    {
        int exp = resolution & 0x7f;
        if ((resolution & 0x80) != 0) return (long)(((UInt128)ts * 1_000_000_000u) >> exp);
        if (exp <= 9) return (long)(ts * Pow10(9 - exp));
        return exp - 9 > 19 ? 0 : (long)(ts / Pow10(exp - 9));

        static ulong Pow10(int n)
        {
            ulong r = 1;
            while (n-- > 0) r *= 10;
            return r;
        }
    }

    // ------------------------------------------------------------ helpers

    private LinkType CheckLinkType(uint raw, string where)
    {
        var link = raw is 12 or 14 ? LinkType.RawIp : (LinkType)raw; // DLT_RAW as some systems wrote it
        if (_requireKnownLinkType && !IsKnown(link))
            throw Error($"unsupported link type {raw} ({where})");
        return link;

        static bool IsKnown(LinkType l) => l is LinkType.Ethernet or LinkType.RawIp or LinkType.LinuxSll or LinkType.Ipv4
            or LinkType.Ipv6 or LinkType.Nflog or LinkType.LinuxSll2;
    }

    private void CheckBlockLength(uint total, int minimum, long at)
    {
        if (total < minimum || total % 4 != 0 || total > MaxRecordLength)
            throw Error($"block at byte {at} has an absurd length {total}");
    }

    /// <summary>Reads the <paramref name="count"/> bytes that end a block and checks its trailing length copy.</summary>
    private ReadOnlySpan<byte> ReadBlockRest(int count, uint total, long at)
    {
        var rest = ReadData(count, at);
        if (U32(rest.Slice(rest.Length - 4)) != total)
            throw Error($"block at byte {at}: trailing length {U32(rest.Slice(rest.Length - 4))} differs from leading length {total}");
        return rest;
    }

    private ReadOnlySpan<byte> ReadData(int count, long recordStart)
    {
        if (_buffer.Length < count) _buffer = new byte[Math.Max(count, Math.Min(2 * _buffer.Length, MaxRecordLength))];
        int n = Read(_buffer.AsSpan(0, count));
        if (n < count) throw Error($"truncated record at byte {recordStart}: file ends after {n} of {count} bytes", truncated: true);
        return _buffer.AsSpan(0, count);
    }

    private int Read(Span<byte> dest)
    {
        int n = _stream.ReadAtLeast(dest, dest.Length, throwOnEndOfStream: false);
        _position += n;
        return n;
    }

    private static int ClampLength(uint length) => length > int.MaxValue ? int.MaxValue : (int)length;

    private ushort U16(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);
    private uint U32(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
    private ulong U64(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);

    private CaptureFormatException Error(string problem, bool truncated = false) => new($"{Name}: {problem}", truncated);
}
