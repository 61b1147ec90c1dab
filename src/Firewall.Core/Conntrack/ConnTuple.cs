using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>
/// One direction of a connection: addresses, the protocol's two "ids", protocol, family, zone.
/// TCP/UDP/UDP-Lite/SCTP/DCCP: ports. ICMP/ICMPv6: <see cref="SrcId"/> = echo identifier,
/// <see cref="DstId"/> = type &lt;&lt; 8 | code. GRE v1: keys. Generic: both 0. 40 bytes, blittable.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct ConnTuple : IEquatable<ConnTuple>
{
    public IpAddr Src;
    public IpAddr Dst;
    public ushort SrcId;
    public ushort DstId;
    public byte Proto;
    /// <summary>4 or 6.</summary>
    public byte Family;
    public ushort Zone;

    public readonly bool IsV6 => Family == 6;
    public readonly byte IcmpType => (byte)(DstId >> 8);
    public readonly byte IcmpCode => (byte)DstId;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Equals(ConnTuple o) =>
        Src.Lo == o.Src.Lo && Dst.Lo == o.Dst.Lo && Src.Hi == o.Src.Hi && Dst.Hi == o.Dst.Hi &&
        Unsafe.As<ushort, ulong>(ref Unsafe.AsRef(in SrcId)) == Unsafe.As<ushort, ulong>(ref Unsafe.AsRef(in o.SrcId));

    public override readonly bool Equals(object? obj) => obj is ConnTuple t && Equals(t);
    public override readonly int GetHashCode() => (int)Hash(0);
    public static bool operator ==(ConnTuple a, ConnTuple b) => a.Equals(b);
    public static bool operator !=(ConnTuple a, ConnTuple b) => !a.Equals(b);

    /// <summary>Seeded 64-bit hash (seed chosen at random per table, against hash flooding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong Hash(ulong seed)
    {
        const ulong K = 0x9E3779B97F4A7C15UL;
        ulong tail = Unsafe.As<ushort, ulong>(ref Unsafe.AsRef(in SrcId));
        ulong h = seed ^ K;
        h = (h ^ Src.Lo) * K; h = (h ^ (h >> 29)) ;
        h = (h ^ Dst.Lo) * K; h ^= h >> 31;
        h = (h ^ Src.Hi) * K; h ^= h >> 29;
        h = (h ^ Dst.Hi) * K; h ^= h >> 31;
        h = (h ^ tail) * K;
        h ^= h >> 32;
        h *= 0xD6E8FEB86659FD93UL;
        h ^= h >> 32;
        return h;
    }

    /// <summary>
    /// The tuple a reply would carry. False when the protocol cannot invert it (ICMP types without a reply type).
    /// </summary>
    public readonly bool TryInvert(out ConnTuple inverse)
    {
        inverse = this;
        inverse.Src = Dst;
        inverse.Dst = Src;
        switch (Proto)
        {
            case IpProto.Icmp:
            {
                int rt = IcmpReplyType(IcmpType);
                if (rt < 0) return false;
                inverse.DstId = (ushort)(rt << 8 | IcmpCode);
                return true;
            }
            case IpProto.Icmpv6:
            {
                int rt = Icmpv6ReplyType(IcmpType);
                if (rt < 0) return false;
                inverse.DstId = (ushort)(rt << 8 | IcmpCode);
                return true;
            }
            case IpProto.Tcp:
            case IpProto.Udp:
            case IpProto.UdpLite:
            case IpProto.Sctp:
            case IpProto.Gre:
                inverse.SrcId = DstId;
                inverse.DstId = SrcId;
                return true;
            default:
                return true;
        }
    }

    /// <summary>ICMP (v4) request/reply type pairs (both ways); -1 when the type has no counterpart.</summary>
    public static int IcmpReplyType(byte type) => type switch
    {
        8 => 0, 0 => 8, 13 => 14, 14 => 13, 15 => 16, 16 => 15, 17 => 18, 18 => 17, _ => -1,
    };

    /// <summary>ICMPv6 request/reply type pairs (both ways); -1 when the type has no counterpart.</summary>
    public static int Icmpv6ReplyType(byte type) => type switch
    {
        128 => 129, 129 => 128, 139 => 140, 140 => 139, _ => -1,
    };

    public override readonly string ToString()
    {
        string s = Src.ToString(IsV6), d = Dst.ToString(IsV6);
        return Proto switch
        {
            IpProto.Icmp or IpProto.Icmpv6 => $"{IpProto.ConntrackName(Proto)} src={s} dst={d} type={IcmpType} code={IcmpCode} id={SrcId} zone={Zone}",
            IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp => $"{IpProto.ConntrackName(Proto)} src={s} dst={d} sport={SrcId} dport={DstId} zone={Zone}",
            _ => $"proto {Proto} src={s} dst={d} ids={SrcId:x}/{DstId:x} zone={Zone}",
        };
    }
}
