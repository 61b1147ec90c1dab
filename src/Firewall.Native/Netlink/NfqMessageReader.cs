using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Firewall.Native.Netlink;

/// <summary>
/// Walks the netlink messages of one received datagram and yields the queued packets, without copying or
/// allocating. Every length is checked against the buffer: malformed messages are counted and skipped, never thrown.
/// </summary>
public ref struct NfqMessageReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _offset;

    public NfqMessageReader(ReadOnlySpan<byte> datagram)
    {
        _buffer = datagram;
        _offset = 0;
        Malformed = 0;
        ErrorMessages = 0;
        LastErrno = 0;
    }

    /// <summary>Messages skipped because a length or a mandatory attribute was wrong.</summary>
    public int Malformed { get; private set; }

    /// <summary>NLMSG_ERROR messages with a non-zero error (e.g. a verdict for an unknown id) seen so far.</summary>
    public int ErrorMessages { get; private set; }

    /// <summary>Positive errno of the last such error message.</summary>
    public int LastErrno { get; private set; }

    /// <summary>Advances to the next packet message; false when the datagram is exhausted.</summary>
    public bool TryReadPacket(out NfqPacket packet)
    {
        while (TryReadMessage(out ushort type, out ReadOnlySpan<byte> message))
        {
            if (type == Interop.NfQueue.MessageType(Interop.NfQueue.NFQNL_MSG_PACKET))
            {
                if (TryParsePacket(message, out packet)) return true;
                Malformed++;
            }
            else if (type == Interop.Netlink.NLMSG_ERROR)
            {
                int errno = ErrorOf(message);
                if (errno != 0)
                {
                    ErrorMessages++;
                    LastErrno = errno;
                }
            }
        }
        packet = default;
        return false;
    }

    /// <summary>Next raw message (header included), or false at the end.</summary>
    internal bool TryReadMessage(out ushort type, out ReadOnlySpan<byte> message)
    {
        int remaining = _buffer.Length - _offset;
        if (remaining >= Interop.Netlink.NlMsgHdrSize)
        {
            var header = MemoryMarshal.Read<Interop.Netlink.NlMsgHdr>(_buffer[_offset..]);
            if (header.Length >= Interop.Netlink.NlMsgHdrSize && header.Length <= (uint)remaining)
            {
                type = header.Type;
                message = _buffer.Slice(_offset, (int)header.Length);
                _offset = Math.Min(_buffer.Length, _offset + Interop.Netlink.Align4((int)header.Length));
                return true;
            }
            Malformed++;
        }
        _offset = _buffer.Length;
        type = 0;
        message = default;
        return false;
    }

    /// <summary>The (positive) errno of an NLMSG_ERROR message; 0 for an ACK; EINVAL when truncated.</summary>
    internal static int ErrorOf(ReadOnlySpan<byte> message) =>
        message.Length < Interop.Netlink.NlMsgHdrSize + sizeof(int)
            ? Interop.Errno.EINVAL
            : -MemoryMarshal.Read<int>(message[Interop.Netlink.NlMsgHdrSize..]);

    /// <summary>The sequence number of the request an NLMSG_ERROR answers (from the echoed header).</summary>
    internal static uint SequenceOf(ReadOnlySpan<byte> message) => MemoryMarshal.Read<Interop.Netlink.NlMsgHdr>(message).Sequence;

    internal static bool TryParsePacket(ReadOnlySpan<byte> message, out NfqPacket packet)
    {
        packet = default;
        if (message.Length < Interop.Netlink.NfnlPayloadOffset) return false;
        ushort queue = BinaryPrimitives.ReadUInt16BigEndian(message[(Interop.Netlink.NlMsgHdrSize + 2)..]);

        bool haveHeader = false;
        uint id = 0, mark = 0, inDev = 0, outDev = 0, physIn = 0, physOut = 0, capLen = 0;
        ushort hwProtocol = 0;
        byte hook = 0;
        long timestamp = 0;
        NfqSkbInfo skbInfo = 0;
        ReadOnlySpan<byte> payload = default;

        ReadOnlySpan<byte> attributes = message[Interop.Netlink.NfnlPayloadOffset..];
        while (attributes.Length >= Interop.Netlink.NlAttrHeaderSize)
        {
            ushort length = MemoryMarshal.Read<ushort>(attributes);
            ushort type = (ushort)(MemoryMarshal.Read<ushort>(attributes[2..]) & Interop.Netlink.NLA_TYPE_MASK);
            if (length < Interop.Netlink.NlAttrHeaderSize || length > attributes.Length) return false;
            ReadOnlySpan<byte> value = attributes[Interop.Netlink.NlAttrHeaderSize..length];
            switch (type)
            {
                case Interop.NfQueue.NFQA_PACKET_HDR:
                    if (value.Length < Interop.NfQueue.PacketHdrSize) return false;
                    id = BinaryPrimitives.ReadUInt32BigEndian(value);
                    hwProtocol = BinaryPrimitives.ReadUInt16BigEndian(value[4..]);
                    hook = value[6];
                    haveHeader = true;
                    break;
                case Interop.NfQueue.NFQA_PAYLOAD:
                    payload = value;
                    break;
                case Interop.NfQueue.NFQA_MARK:
                    mark = ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_IFINDEX_INDEV:
                    inDev = ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_IFINDEX_OUTDEV:
                    outDev = ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_IFINDEX_PHYSINDEV:
                    physIn = ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_IFINDEX_PHYSOUTDEV:
                    physOut = ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_CAP_LEN:
                    capLen = ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_SKB_INFO:
                    skbInfo = (NfqSkbInfo)ReadUInt32(value);
                    break;
                case Interop.NfQueue.NFQA_TIMESTAMP:
                    if (value.Length >= Interop.NfQueue.TimestampSize)
                        timestamp = (long)BinaryPrimitives.ReadUInt64BigEndian(value) * 1_000_000_000L
                                    + (long)BinaryPrimitives.ReadUInt64BigEndian(value[8..]) * 1000L;
                    break;
            }
            int next = Interop.Netlink.Align4(length);
            attributes = next >= attributes.Length ? default : attributes[next..];
        }

        if (!haveHeader) return false;
        packet = new NfqPacket(queue, id, hwProtocol, (NfHook)hook, payload, mark, inDev, outDev, physIn, physOut,
            skbInfo, capLen, timestamp);
        return true;
    }

    private static uint ReadUInt32(ReadOnlySpan<byte> value) =>
        value.Length >= sizeof(uint) ? BinaryPrimitives.ReadUInt32BigEndian(value) : 0;
}
