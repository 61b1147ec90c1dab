namespace Firewall.Core.Packets;

/// <summary>
/// A view of one frame: offsets into <see cref="Frame"/> plus the header fields the engine and the
/// rules need, decoded once. Never copies the frame. Produced by <see cref="PacketParser"/>.
/// All offsets are relative to the start of <see cref="Frame"/>.
/// </summary>
public ref struct ParsedPacket
{
    /// <summary>The whole captured frame, link header included.</summary>
    public ReadOnlySpan<byte> Frame;

    /// <summary>None when the frame was parsed down to a usable L4 header (or is a non-IP frame: see <see cref="ParseError.NotIp"/>).</summary>
    public ParseError Error;

    // ---- link layer ----
    public LinkType LinkType;
    /// <summary>EtherType of the payload after VLAN tags (0x0800, 0x86DD, 0x0806 ARP, …); 0 when the link has none (raw IP).</summary>
    public ushort EtherType;
    /// <summary>Outermost VLAN id (802.1Q / 802.1ad), or -1 when untagged.</summary>
    public short VlanId;
    /// <summary>NFLOG only: the log prefix (NFULA_PREFIX) as an offset/length into the frame, length 0 when absent.</summary>
    public int NflogPrefixOffset, NflogPrefixLength;
    /// <summary>NFLOG only: the netfilter hook number (from NFULA_PACKET_HDR), or -1.</summary>
    public int NflogHook;

    // ---- IP ----
    /// <summary>4 or 6; 0 when not an IP packet.</summary>
    public byte IpVersion;
    public int L3Offset;
    /// <summary>IPv4 IHL×4, or 40 + all IPv6 extension headers up to the L4 header.</summary>
    public int L3HeaderLength;
    /// <summary>Bytes of the IP packet per its own length field (IPv4 total length; IPv6 40 + payload length), never more than captured.</summary>
    public int L3Length;
    /// <summary>Length from the IP header's own length field (may exceed the captured bytes only in embedded/truncated mode).</summary>
    public int L3DeclaredLength;
    public IpAddr Src;
    public IpAddr Dst;
    /// <summary>Upper-layer protocol (after IPv6 extension headers).</summary>
    public byte Protocol;
    public byte Ttl;
    public byte Tos;
    /// <summary>Fragment offset in bytes (IPv4 or IPv6 fragment header); 0 for unfragmented and first fragments.</summary>
    public int FragmentOffset;
    public bool MoreFragments;
    /// <summary>True when the packet is any fragment (first or later) of a larger datagram.</summary>
    public bool IsFragment;

    // ---- L4 ----
    public int L4Offset;
    /// <summary>Bytes from the L4 header to the end of the IP packet (per the IP length fields).</summary>
    public int L4Length;
    /// <summary>TCP/UDP/UDP-Lite/SCTP/DCCP ports (host order); 0 otherwise.</summary>
    public ushort SrcPort, DstPort;
    public int PayloadOffset;
    public int PayloadLength;

    // ---- TCP ----
    public uint Seq, Ack;
    /// <summary>The flag byte (FIN 0x01 … CWR 0x80).</summary>
    public byte TcpFlagBits;
    public ushort Window;
    public int TcpHeaderLength;
    /// <summary>Window-scale option value, or -1 when absent (not capped here; the tracker caps at 14).</summary>
    public sbyte WindowScale;
    public bool SackPermitted;
    public ushort Mss;
    /// <summary>Offset of the first SACK option's blocks (8 bytes each: left, right edge) and how many blocks; 0 blocks when absent.</summary>
    public int SackBlocksOffset, SackBlockCount;
    public bool HasTimestamp;
    public uint TsVal, TsEcr;

    // ---- ICMP / ICMPv6 ----
    public byte IcmpType, IcmpCode;
    /// <summary>Bytes 4–5 of the ICMP header, read for every type (host order).</summary>
    public ushort IcmpId;
    /// <summary>For ICMP/ICMPv6 error messages: offset of the embedded IP header, or 0 when there is none.</summary>
    public int InnerL3Offset;

    // ---- checksums ----
    /// <summary>Set by the parser when asked to verify: false when the IPv4 header checksum or the L4 checksum is wrong.</summary>
    public bool ChecksumChecked, ChecksumOk;

    public readonly bool IsIp => IpVersion != 0;
    public readonly bool IsV6 => IpVersion == 6;
    public readonly ReadOnlySpan<byte> Payload => Frame.Slice(PayloadOffset, PayloadLength);
    public readonly ReadOnlySpan<byte> L4 => Frame.Slice(L4Offset, L4Length);
}
