namespace Firewall.Core.Packets;

/// <summary>Why a frame could not be parsed down to a usable L4 header. Parsing never throws.</summary>
public enum ParseError : byte
{
    None = 0,
    /// <summary>Not an IP frame (ARP, LLDP, …): not malformed, just not for conntrack.</summary>
    NotIp,
    TruncatedLinkHeader,
    TruncatedIpHeader,
    BadIpVersion,
    BadIpHeaderLength,
    /// <summary>IPv4 total length / IPv6 payload length is smaller than the header or larger than the captured bytes.</summary>
    BadIpTotalLength,
    /// <summary>IPv4 header checksum wrong (only reported when checksum verification is requested).</summary>
    BadIpChecksum,
    /// <summary>IPv6 extension-header chain malformed, truncated or too long.</summary>
    BadExtensionHeaders,
    /// <summary>L4 header shorter than the protocol needs (TCP &lt; 20 or data offset beyond segment, UDP &lt; 8, ICMP &lt; 8…).</summary>
    TruncatedL4Header,
}
