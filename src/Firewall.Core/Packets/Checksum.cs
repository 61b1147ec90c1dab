using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Firewall.Core.Packets;

/// <summary>Internet checksums (RFC 1071) over spans, with the IPv4/IPv6 pseudo-headers.</summary>
public static class Checksum
{
    /// <summary>One's-complement sum of <paramref name="data"/> folded to 32 bits (not inverted).</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint sum = 0)
    {
        ulong acc = sum;
        int i = 0;
        while (i + 8 <= data.Length)
        {
            ulong w = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(i));
            acc += (w >> 32) + (w & 0xffffffff);
            i += 8;
        }
        while (i + 2 <= data.Length)
        {
            acc += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
            i += 2;
        }
        if (i < data.Length) acc += (uint)data[i] << 8;
        while (acc >> 32 != 0) acc = (acc & 0xffffffff) + (acc >> 32);
        return (uint)acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum value to store in a header: ~fold(sum).</summary>
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);

    /// <summary>Sum of the pseudo-header for an upper-layer checksum.</summary>
    public static uint PseudoHeader(in IpAddr src, in IpAddr dst, bool v6, byte proto, int length)
    {
        ulong acc;
        if (!v6)
        {
            uint s = (uint)src.Lo, d = (uint)dst.Lo;
            acc = (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto + (uint)length;
        }
        else
        {
            acc = Words(src.Hi) + Words(src.Lo) + Words(dst.Hi) + Words(dst.Lo) + proto + (uint)(length >> 16) + (uint)(length & 0xffff);
        }
        while (acc >> 32 != 0) acc = (acc & 0xffffffff) + (acc >> 32);
        return (uint)acc;

        static ulong Words(ulong v) => (v >> 48) + ((v >> 32) & 0xffff) + ((v >> 16) & 0xffff) + (v & 0xffff);
    }

    /// <summary>True when a header including its checksum field sums to 0xffff (IPv4 header, ICMPv4).</summary>
    public static bool IsValid(ReadOnlySpan<byte> data) => Fold(Sum(data)) == 0xffff;

    /// <summary>
    /// Verifies the L4 checksum of a parsed TCP, UDP, UDP-Lite (full coverage), ICMP or ICMPv6 packet
    /// over <paramref name="coverage"/> bytes of the L4 data (the whole L4 length when negative).
    /// A UDP checksum of 0 over IPv4 means "none" and is valid. <paramref name="pseudoHeaderProto"/> overrides the protocol
    /// number in the pseudo-header (the kernel checks UDP-Lite with 17, see ConntrackWorker.ValidateUdpLite).
    /// </summary>
    public static bool VerifyL4(ref ParsedPacket p, int coverage = -1, int pseudoHeaderProto = -1)
    {
        var l4 = p.Frame.Slice(p.L4Offset, p.L4Length);
        if (coverage < 0 || coverage > l4.Length) coverage = l4.Length;
        if (p.Protocol == IpProto.Udp && !p.IsV6 && l4.Length >= 8 && BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(6)) == 0)
            return true;
        byte proto = pseudoHeaderProto >= 0 ? (byte)pseudoHeaderProto : p.Protocol;
        uint sum = p.Protocol == IpProto.Icmp ? 0 : PseudoHeader(p.Src, p.Dst, p.IsV6, proto, l4.Length);
        sum = Sum(l4.Slice(0, coverage), sum);
        return Fold(sum) == 0xffff;
    }
}
