using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Firewall.Native.Netlink;

/// <summary>Builds one nfnetlink message (nlmsghdr + nfgenmsg + attributes) into a caller-provided buffer.</summary>
internal ref struct NetlinkMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public NetlinkMessageWriter(Span<byte> buffer, ushort type, ushort flags, uint sequence, ushort resourceId)
    {
        _buffer = buffer;
        _buffer[..Interop.Netlink.NfnlPayloadOffset].Clear();
        var header = new Interop.Netlink.NlMsgHdr { Type = type, Flags = flags, Sequence = sequence };
        MemoryMarshal.Write(_buffer, in header);
        _buffer[Interop.Netlink.NlMsgHdrSize] = 0; // AF_UNSPEC
        _buffer[Interop.Netlink.NlMsgHdrSize + 1] = Interop.Netlink.NFNETLINK_V0;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(Interop.Netlink.NlMsgHdrSize + 2)..], resourceId);
        _length = Interop.Netlink.NfnlPayloadOffset;
    }

    /// <summary>Appends an attribute and returns its (zeroed, padded) payload area to fill.</summary>
    public Span<byte> AddAttribute(ushort type, int payloadLength)
    {
        int total = Interop.Netlink.NlAttrHeaderSize + payloadLength;
        Span<byte> slot = _buffer.Slice(_length, Interop.Netlink.Align4(total));
        slot.Clear();
        MemoryMarshal.Write(slot, (ushort)total);
        MemoryMarshal.Write(slot[2..], type);
        _length += slot.Length;
        return slot.Slice(Interop.Netlink.NlAttrHeaderSize, payloadLength);
    }

    public void AddUInt32BigEndian(ushort type, uint value) =>
        BinaryPrimitives.WriteUInt32BigEndian(AddAttribute(type, sizeof(uint)), value);

    /// <summary>Writes the total length into nlmsghdr and returns the finished message.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        MemoryMarshal.Write(_buffer, (uint)_length);
        return _buffer[.._length];
    }
}
