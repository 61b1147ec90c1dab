using System.Buffers.Binary;

namespace Firewall.Core.Tests.Packets.Capture;

/// <summary>Builds classic pcap and pcapng files byte by byte, in either byte order, straight from the format
/// specifications (independent of Firewall.Core's reader and writer).</summary>
public sealed class CaptureFileBuilder
{
    private readonly bool _bigEndian;
    private readonly MemoryStream _out = new();

    private CaptureFileBuilder(bool bigEndian) => _bigEndian = bigEndian;

    /// <summary>A classic pcap file header (magic a1b2c3d4, or a1b23c4d for nanoseconds).</summary>
    public static CaptureFileBuilder Pcap(bool bigEndian, uint linkType, bool nanosecond = false, uint snaplen = 65535)
    {
        var b = new CaptureFileBuilder(bigEndian);
        b.U32(nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u).U16(2).U16(4).U32(0).U32(0).U32(snaplen).U32(linkType);
        return b;
    }

    /// <summary>A pcapng file starting with a section header block.</summary>
    public static CaptureFileBuilder Pcapng(bool bigEndian) => new CaptureFileBuilder(bigEndian).Section();

    public CaptureFileBuilder Record(uint seconds, uint fraction, byte[] data, uint? originalLength = null) =>
        U32(seconds).U32(fraction).U32((uint)data.Length).U32(originalLength ?? (uint)data.Length).Bytes(data);

    public CaptureFileBuilder Section() => Block(0x0a0d0d0a, Body(b => b.U32(0x1a2b3c4d).U16(1).U16(0).U64(ulong.MaxValue)));

    /// <summary>An interface description block, optionally with if_tsresol (9) and if_tsoffset (14).</summary>
    public CaptureFileBuilder Interface(ushort linkType, uint snaplen = 0, byte? tsResolution = null, long? tsOffsetSeconds = null) =>
        Block(1, Body(b =>
        {
            b.U16(linkType).U16(0).U32(snaplen);
            if (tsResolution is byte r) b.U16(9).U16(1).Bytes([r, 0, 0, 0]);
            if (tsOffsetSeconds is long o) b.U16(14).U16(8).U64((ulong)o);
            if (tsResolution is not null || tsOffsetSeconds is not null) b.U16(0).U16(0);
        }));

    public CaptureFileBuilder Epb(uint interfaceId, ulong timestamp, byte[] data, uint? originalLength = null) =>
        Block(6, Body(b => b.U32(interfaceId).U32((uint)(timestamp >> 32)).U32((uint)timestamp).U32((uint)data.Length)
            .U32(originalLength ?? (uint)data.Length).Bytes(data).Pad()));

    public CaptureFileBuilder Spb(byte[] data, uint originalLength) => Block(3, Body(b => b.U32(originalLength).Bytes(data).Pad()));

    /// <summary>The obsolete packet block (type 2).</summary>
    public CaptureFileBuilder Pb(ushort interfaceId, ulong timestamp, byte[] data) =>
        Block(2, Body(b => b.U16(interfaceId).U16(0).U32((uint)(timestamp >> 32)).U32((uint)timestamp).U32((uint)data.Length)
            .U32((uint)data.Length).Bytes(data).Pad()));

    /// <summary>Any block: type, total length, body (padded to 4), total length.</summary>
    public CaptureFileBuilder Block(uint type, byte[] body, uint? trailingLength = null)
    {
        int padded = (body.Length + 3) & ~3;
        uint total = (uint)(12 + padded);
        return U32(type).U32(total).Bytes(body).Bytes(new byte[padded - body.Length]).U32(trailingLength ?? total);
    }

    public CaptureFileBuilder U16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        if (_bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        _out.Write(b);
        return this;
    }

    public CaptureFileBuilder U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        if (_bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        _out.Write(b);
        return this;
    }

    public CaptureFileBuilder U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        if (_bigEndian) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        _out.Write(b);
        return this;
    }

    public CaptureFileBuilder Bytes(byte[] data)
    {
        _out.Write(data);
        return this;
    }

    private CaptureFileBuilder Pad()
    {
        while (_out.Length % 4 != 0) _out.WriteByte(0);
        return this;
    }

    private byte[] Body(Action<CaptureFileBuilder> fill)
    {
        var b = new CaptureFileBuilder(_bigEndian);
        fill(b);
        return b.ToArray();
    }

    public byte[] ToArray() => _out.ToArray();
}
