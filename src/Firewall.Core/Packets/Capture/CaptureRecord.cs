namespace Firewall.Core.Packets.Capture;

/// <summary>One captured frame read by <see cref="PcapReader"/>. <see cref="Data"/> points into the reader's buffer
/// and is valid only until the next <see cref="PcapReader.TryRead"/>.</summary>
public readonly ref struct CaptureRecord
{
    /// <summary>Capture time, nanoseconds since the Unix epoch (0 for pcapng simple packet blocks, which carry none).</summary>
    public readonly long TimestampNs;
    public readonly LinkType LinkType;
    /// <summary>The captured bytes (possibly cut to the snap length).</summary>
    public readonly ReadOnlySpan<byte> Data;
    /// <summary>Length of the frame on the wire.</summary>
    public readonly int OriginalLength;
    /// <summary>pcapng interface index within its section; 0 for classic pcap.</summary>
    public readonly int InterfaceId;

    public CaptureRecord(long timestampNs, LinkType linkType, ReadOnlySpan<byte> data, int originalLength, int interfaceId)
    {
        TimestampNs = timestampNs;
        LinkType = linkType;
        Data = data;
        OriginalLength = originalLength;
        InterfaceId = interfaceId;
    }
}
