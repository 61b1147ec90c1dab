namespace Firewall.Core.Packets;

/// <summary>Link-layer header types, numbered as pcap's LINKTYPE_* values.</summary>
public enum LinkType : ushort
{
    Ethernet = 1,
    /// <summary>Raw IPv4 or IPv6 (version nibble decides). pcap's LINKTYPE_RAW; DLT_RAW 12/14 map here too.</summary>
    RawIp = 101,
    LinuxSll = 113,
    Ipv4 = 228,
    Ipv6 = 229,
    Nflog = 239,
    LinuxSll2 = 276,
}
