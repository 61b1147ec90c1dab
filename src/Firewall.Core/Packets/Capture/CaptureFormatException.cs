namespace Firewall.Core.Packets.Capture;

/// <summary>A capture file is not pcap/pcapng, is damaged, or uses something unsupported. The message starts with the
/// file name, e.g. "capture.pcap: not a pcap or pcapng file (magic 0x12345678)".</summary>
public sealed class CaptureFormatException : Exception
{
    public CaptureFormatException(string message, bool isTruncated = false) : base(message) => IsTruncated = isTruncated;

    /// <summary>True when the file simply ends in the middle of a header or record (e.g. a capture still being written or
    /// cut off): the records read before are intact, and a caller may choose to stop there.</summary>
    public bool IsTruncated { get; }
}
