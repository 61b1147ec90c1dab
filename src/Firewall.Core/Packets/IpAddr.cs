using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firewall.Core.Packets;

/// <summary>
/// A 128-bit address held as two big-endian halves, so comparisons, masks and hashing are
/// plain integer operations. IPv4 lives in the low 32 bits of <see cref="Lo"/> (Hi = 0); the
/// family is carried next to the address (in <see cref="Conntrack.ConnTuple"/> or the parsed packet).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct IpAddr : IEquatable<IpAddr>
{
    public readonly ulong Hi;
    public readonly ulong Lo;

    public IpAddr(ulong hi, ulong lo) { Hi = hi; Lo = lo; }

    public static IpAddr FromV4(uint beValueAsHostOrder) => new(0, beValueAsHostOrder);

    /// <summary>Reads 4 bytes (network order) as an IPv4 address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddr ReadV4(ReadOnlySpan<byte> b) => new(0, BinaryPrimitives.ReadUInt32BigEndian(b));

    /// <summary>Reads 16 bytes (network order) as an IPv6 address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpAddr ReadV6(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(b), BinaryPrimitives.ReadUInt64BigEndian(b.Slice(8)));

    public uint V4 => (uint)Lo;

    public void WriteV4(Span<byte> dest) => BinaryPrimitives.WriteUInt32BigEndian(dest, (uint)Lo);

    public void WriteV6(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dest, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(dest.Slice(8), Lo);
    }

    public bool Equals(IpAddr other) => Hi == other.Hi && Lo == other.Lo;
    public override bool Equals(object? obj) => obj is IpAddr a && Equals(a);
    public override int GetHashCode() => HashCode.Combine(Hi, Lo);
    public static bool operator ==(IpAddr a, IpAddr b) => a.Equals(b);
    public static bool operator !=(IpAddr a, IpAddr b) => !a.Equals(b);

    /// <summary>True when the first <paramref name="prefixLength"/> bits (of 32 for v4, 128 for v6) equal those of <paramref name="network"/>.</summary>
    public bool InPrefix(IpAddr network, int prefixLength, bool isV6)
    {
        if (!isV6)
        {
            if (prefixLength <= 0) return true;
            uint mask = prefixLength >= 32 ? uint.MaxValue : ~(uint.MaxValue >> prefixLength);
            return ((uint)Lo & mask) == ((uint)network.Lo & mask);
        }
        if (prefixLength <= 0) return true;
        if (prefixLength <= 64)
        {
            ulong m = prefixLength == 64 ? ulong.MaxValue : ~(ulong.MaxValue >> prefixLength);
            return (Hi & m) == (network.Hi & m);
        }
        if (Hi != network.Hi) return false;
        int rest = prefixLength - 64;
        ulong m2 = rest >= 64 ? ulong.MaxValue : ~(ulong.MaxValue >> rest);
        return (Lo & m2) == (network.Lo & m2);
    }

    public static IpAddr FromIPAddress(IPAddress a, out bool isV6)
    {
        Span<byte> b = stackalloc byte[16];
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        isV6 = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        a.TryWriteBytes(b, out _);
        return isV6 ? ReadV6(b) : ReadV4(b);
    }

    public IPAddress ToIPAddress(bool isV6)
    {
        Span<byte> b = stackalloc byte[16];
        if (!isV6) { WriteV4(b); return new IPAddress(b.Slice(0, 4)); }
        WriteV6(b);
        return new IPAddress(b);
    }

    public static bool TryParse(string s, out IpAddr addr, out bool isV6)
    {
        if (IPAddress.TryParse(s, out var ip)) { addr = FromIPAddress(ip, out isV6); return true; }
        addr = default; isV6 = false; return false;
    }

    /// <summary>Formats as dotted quad (v4), compressed RFC 5952 (v6), or, with <paramref name="fullV6"/>,
    /// eight 4-digit groups as /proc/net/nf_conntrack prints them.</summary>
    public string ToString(bool isV6, bool fullV6 = false)
    {
        if (!isV6)
        {
            uint v = (uint)Lo;
            return string.Create(CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}");
        }
        if (!fullV6) return ToIPAddress(true).ToString();
        return string.Create(CultureInfo.InvariantCulture,
            $"{Hi >> 48:x4}:{(Hi >> 32) & 0xffff:x4}:{(Hi >> 16) & 0xffff:x4}:{Hi & 0xffff:x4}:{Lo >> 48:x4}:{(Lo >> 32) & 0xffff:x4}:{(Lo >> 16) & 0xffff:x4}:{Lo & 0xffff:x4}");
    }

    public override string ToString() => Hi == 0 && Lo <= uint.MaxValue ? ToString(false) : ToString(true);
}
