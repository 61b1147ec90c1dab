using System.Buffers.Binary;
using Firewall.Native.Netlink;

namespace Firewall.Integration.Tests.Native;

/// <summary>The NFQUEUE parser on hand-built netlink messages (layouts from linux/netfilter/nfnetlink_queue.h).</summary>
public sealed class NfqMessageReaderTests
{
    private const ushort PacketType = (3 << 8) | 0; // NFNL_SUBSYS_QUEUE, NFQNL_MSG_PACKET

    /// <summary>nlmsghdr + nfgenmsg(queue BE) + the given attributes (type, value), each padded to 4.</summary>
    private static byte[] Message(ushort type, ushort queue, params (ushort Type, byte[] Value)[] attributes)
    {
        var bytes = new List<byte>();
        bytes.AddRange(new byte[16]);
        bytes.AddRange([0, 0, (byte)(queue >> 8), (byte)queue]);
        foreach ((ushort t, byte[] v) in attributes)
        {
            var header = new byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(4 + v.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), t);
            bytes.AddRange(header);
            bytes.AddRange(v);
            while (bytes.Count % 4 != 0) bytes.Add(0);
        }
        byte[] message = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), type);
        return message;
    }

    private static byte[] Be32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    private static readonly byte[] PacketHeader = [0, 0, 0, 42, 0x08, 0x00, 2]; // id 42, IPv4, FORWARD

    [Fact]
    public void PacketMessage_ParsesEveryAttribute()
    {
        byte[] payload = [0x45, 1, 2, 3, 4];
        byte[] message = Message(PacketType, 9,
            (1, PacketHeader), (3, Be32(0x2a)), (5, Be32(3)), (6, Be32(4)), (10, payload), (13, Be32(1500)), (14, Be32(3)));
        var reader = new NfqMessageReader(message);
        Assert.True(reader.TryReadPacket(out NfqPacket p));
        Assert.Equal(9, p.QueueNumber);
        Assert.Equal(42u, p.PacketId);
        Assert.Equal(0x0800, p.HardwareProtocol);
        Assert.Equal(NfHook.Forward, p.Hook);
        Assert.Equal(0x2au, p.Mark);
        Assert.Equal(3u, p.InInterfaceIndex);
        Assert.Equal(4u, p.OutInterfaceIndex);
        Assert.Equal(payload, p.Payload.ToArray());
        Assert.Equal(1500u, p.OriginalLength);
        Assert.Equal(NfqSkbInfo.ChecksumNotReady | NfqSkbInfo.Gso, p.SkbInfo);
        Assert.False(reader.TryReadPacket(out _));
    }

    [Fact]
    public void AttributeLongerThanTheMessage_IsCountedAsMalformed()
    {
        byte[] message = Message(PacketType, 0, (1, PacketHeader), (10, [0x45, 0, 0, 0]));
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(32), 200); // payload attribute claims 200 bytes
        var reader = new NfqMessageReader(message);
        Assert.False(reader.TryReadPacket(out _));
        Assert.Equal(1, reader.Malformed);
    }

    [Fact]
    public void PacketWithoutPacketHeader_IsCountedAsMalformed()
    {
        var reader = new NfqMessageReader(Message(PacketType, 0, (10, [0x45, 0, 0, 0])));
        Assert.False(reader.TryReadPacket(out _));
        Assert.Equal(1, reader.Malformed);
    }

    [Fact]
    public void MessageLengthBeyondTheDatagram_StopsTheWalk()
    {
        byte[] message = Message(PacketType, 0, (1, PacketHeader));
        BinaryPrimitives.WriteUInt32LittleEndian(message, 4096);
        var reader = new NfqMessageReader(message);
        Assert.False(reader.TryReadPacket(out _));
        Assert.Equal(1, reader.Malformed);
    }

    [Fact]
    public void ErrorMessage_IsReportedWithItsErrno()
    {
        var error = new byte[36];
        BinaryPrimitives.WriteUInt32LittleEndian(error, 36);
        BinaryPrimitives.WriteUInt16LittleEndian(error.AsSpan(4), 2); // NLMSG_ERROR
        BinaryPrimitives.WriteInt32LittleEndian(error.AsSpan(16), -2); // -ENOENT
        byte[] datagram = [.. error, .. Message(PacketType, 0, (1, PacketHeader))];
        var reader = new NfqMessageReader(datagram);
        Assert.True(reader.TryReadPacket(out NfqPacket p));
        Assert.Equal(42u, p.PacketId);
        Assert.Equal(1, reader.ErrorMessages);
        Assert.Equal(2, reader.LastErrno);
    }
}
