using System.Buffers.Binary;
using Firewall.Core.Packets;

namespace Firewall.Core.Tests.Conntrack;

/// <summary>Builds ParsedPacket views directly (no parser) for table tests: just the fields conntrack reads.</summary>
internal static class TestPackets
{
    public static IpAddr V4(string s) { IpAddr.TryParse(s, out var a, out _); return a; }

    public static ParsedPacket Udp(byte[] buf, string src, ushort sport, string dst, ushort dport, int payload = 10)
        => Udp(buf, V4(src), sport, V4(dst), dport, payload, src.Contains(':'));

    public static ParsedPacket Udp(byte[] buf, IpAddr src, ushort sport, IpAddr dst, ushort dport, int payload = 10, bool v6 = false)
    {
        int len = 8 + payload;
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(0), sport);
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(4), (ushort)len);
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(6), 0);
        var p = Ip(buf, src, dst, v6, IpProto.Udp, len);
        p.SrcPort = sport; p.DstPort = dport;
        p.PayloadOffset = 8; p.PayloadLength = payload;
        return p;
    }

    public static ParsedPacket Icmp(byte[] buf, string src, string dst, byte type, byte code, ushort id, bool v6 = false)
    {
        buf[0] = type; buf[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(buf.AsSpan(4), id);
        var p = Ip(buf, src, dst, v6 ? IpProto.Icmpv6 : IpProto.Icmp, 8);
        p.IcmpType = type; p.IcmpCode = code; p.IcmpId = id;
        return p;
    }

    public static ParsedPacket Generic(byte[] buf, string src, string dst, byte proto)
        => Ip(buf, src, dst, proto, 0);

    private static ParsedPacket Ip(byte[] buf, string src, string dst, byte proto, int l4len)
        => Ip(buf, V4(src), V4(dst), src.Contains(':'), proto, l4len);

    private static ParsedPacket Ip(byte[] buf, IpAddr s, IpAddr d, bool v6, byte proto, int l4len)
    {
        return new ParsedPacket
        {
            Frame = buf,
            IpVersion = v6 ? (byte)6 : (byte)4,
            Src = s,
            Dst = d,
            Protocol = proto,
            L3Offset = 0,
            L4Offset = 0,
            L4Length = l4len,
            L3Length = l4len,
        };
    }
}
