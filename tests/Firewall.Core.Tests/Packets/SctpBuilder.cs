using System.Buffers.Binary;

namespace Firewall.Core.Tests.Packets;

/// <summary>
/// SCTP chunks and packets for tests, with the CRC32c filled by a bitwise implementation written here (independent of
/// Firewall.Core's <c>Crc32c</c>). Wrap the result with <see cref="FrameBuilder.Ipv4"/> / <see cref="FrameBuilder.Ipv6"/>.
/// </summary>
public static class SctpBuilder
{
    public const byte Data = 0, Init = 1, InitAck = 2, Sack = 3, Heartbeat = 4, HeartbeatAck = 5, Abort = 6, Shutdown = 7,
        ShutdownAck = 8, Error = 9, CookieEcho = 10, CookieAck = 11, ShutdownComplete = 14;

    /// <summary>The T flag of ABORT / SHUTDOWN COMPLETE.</summary>
    public const byte T = 0x01;

    /// <summary>A chunk: type, flags, length (4 + value), value, zero padding to 4 bytes.</summary>
    public static byte[] Chunk(byte type, byte flags = 0, byte[]? value = null, int? lengthField = null)
    {
        value ??= [];
        int len = 4 + value.Length;
        var b = new byte[(len + 3) & ~3];
        b[0] = type;
        b[1] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)(lengthField ?? len));
        value.CopyTo(b, 4);
        return b;
    }

    /// <summary>INIT (or INIT ACK with <paramref name="type"/> 2): initiate tag, a_rwnd, streams, initial TSN.</summary>
    public static byte[] InitChunk(uint initTag, byte type = Init)
    {
        var v = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(v, initTag);
        BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(4), 65535);
        BinaryPrimitives.WriteUInt16BigEndian(v.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16BigEndian(v.AsSpan(10), 1);
        BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(12), 1);
        return Chunk(type, 0, v);
    }

    public static byte[] InitAckChunk(uint initTag) => InitChunk(initTag, InitAck);

    public static byte[] DataChunk(uint tsn = 1, string payload = "x")
    {
        var v = new byte[12 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(v, tsn);
        System.Text.Encoding.ASCII.GetBytes(payload).CopyTo(v, 12);
        return Chunk(Data, 0x03, v);
    }

    /// <summary>A chunk of <paramref name="type"/> with a plausible body: INIT / INIT ACK get an initiate tag, others a small value.</summary>
    public static byte[] AnyChunk(byte type, uint initTag = 0x12345678, byte flags = 0) => type switch
    {
        Init or InitAck => InitChunk(initTag, type),
        Data => DataChunk(),
        CookieEcho => Chunk(CookieEcho, flags, [1, 2, 3, 4, 5, 6, 7, 8]),
        Heartbeat or HeartbeatAck => Chunk(type, flags, [0, 1, 0, 8, 9, 9, 9, 9]),
        Shutdown => Chunk(Shutdown, flags, [0, 0, 0, 1]),
        _ => Chunk(type, flags),
    };

    /// <summary>An SCTP packet (common header + chunks) with a correct CRC32c unless <paramref name="crc"/> is given.</summary>
    public static byte[] Packet(ushort srcPort, ushort dstPort, uint vtag, byte[][] chunks, uint? crc = null)
    {
        var b = FrameBuilder.Sctp(srcPort, dstPort, vtag, FrameBuilder.Concat(chunks));
        if (crc is uint c) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), c);
        else FillCrc(b);
        return b;
    }

    /// <summary>Writes the CRC32c of <paramref name="sctp"/> (checksum field zeroed first) into bytes 8–11, little-endian.</summary>
    public static void FillCrc(Span<byte> sctp)
    {
        sctp[8] = sctp[9] = sctp[10] = sctp[11] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(sctp.Slice(8), Crc32c(sctp));
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one bit at a time.</summary>
    public static uint Crc32c(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte x in data)
        {
            crc ^= x;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}

/// <summary>GRE headers for tests: version 0 (RFC 2784/2890) and version 1 (PPTP enhanced GRE, RFC 2637).</summary>
public static class GreBuilder
{
    /// <summary>Version 0 with protocol <paramref name="protocol"/>, optionally the key field (K bit), then <paramref name="payloadLength"/> bytes.</summary>
    public static byte[] V0(ushort protocol = 0x0800, uint? key = null, int payloadLength = 20)
    {
        int hl = key is null ? 4 : 8;
        var b = new byte[hl + payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(key is null ? 0 : 0x2000));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), protocol);
        if (key is uint k) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), k);
        return b;
    }

    /// <summary>Version 1 (PPTP): flags K|S, version 1, protocol (PPP 0x880B), payload length, call ID, sequence number, payload.</summary>
    public static byte[] Pptp(ushort callId, ushort protocol = 0x880B, int payloadLength = 4)
    {
        var b = new byte[12 + payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(b, 0x3001);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), protocol);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)payloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), callId);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 1);
        return b;
    }
}
