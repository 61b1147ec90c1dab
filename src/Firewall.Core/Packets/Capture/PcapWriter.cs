using System.Buffers.Binary;

namespace Firewall.Core.Packets.Capture;

/// <summary>
/// Writes classic pcap (little-endian, version 2.4, micro- or nanosecond timestamps) that tcpdump, Wireshark and
/// <see cref="PcapReader"/> read. Frames longer than the snap length are cut, keeping their original length.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _nanosecond;
    private readonly byte[] _header = new byte[24];
    private bool _disposed;

    public LinkType LinkType { get; }
    public int SnapLength { get; }

    /// <summary>Creates (or overwrites) a file and writes the pcap file header.</summary>
    public static PcapWriter Create(string path, LinkType link, int snaplen = 262144, bool nanosecond = true)
    {
        var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        return new PcapWriter(fs, link, snaplen, nanosecond);
    }

    /// <summary>Writes the pcap file header to <paramref name="stream"/>.</summary>
    /// <param name="leaveOpen">Do not dispose <paramref name="stream"/> with the writer.</param>
    public PcapWriter(Stream stream, LinkType link, int snaplen = 262144, bool nanosecond = true, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snaplen);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _nanosecond = nanosecond;
        LinkType = link;
        SnapLength = snaplen;

        var h = _header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(6), 4);
        BinaryPrimitives.WriteInt32LittleEndian(h.Slice(8), 0); // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(12), 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(16), (uint)snaplen);
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(20), (uint)link);
        _stream.Write(h);
    }

    /// <summary>Appends one frame captured at <paramref name="timestampNs"/> (Unix epoch nanoseconds, not negative).
    /// <paramref name="originalLength"/> is the length on the wire (the data length when negative).</summary>
    public void Write(long timestampNs, ReadOnlySpan<byte> data, int originalLength = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (timestampNs < 0 || timestampNs / 1_000_000_000L > uint.MaxValue)
            ThrowTimestampOutOfRange(timestampNs);
        long seconds = timestampNs / 1_000_000_000L, ns = timestampNs % 1_000_000_000L;
        int captured = Math.Min(data.Length, SnapLength);
        int original = Math.Max(originalLength < 0 ? data.Length : originalLength, captured);

        var h = _header.AsSpan(0, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(4), (uint)(_nanosecond ? ns : ns / 1000));
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(8), (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(12), (uint)original);
        _stream.Write(h);
        _stream.Write(data.Slice(0, captured));
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stream.Flush();
        if (!_leaveOpen) _stream.Dispose();
    }

    private static void ThrowTimestampOutOfRange(long ns) =>
        throw new ArgumentOutOfRangeException(nameof(ns), ns, "pcap timestamps must lie between 1970 and 2106");
}
