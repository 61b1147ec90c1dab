namespace Firewall.Native.Pcap;

/// <summary>
/// One captured frame, borrowed from libpcap's buffer: valid only until the next read on the same handle
/// (or until the frame handler returns). Copy what must outlive that.
/// </summary>
public readonly ref struct PcapFrame
{
    public PcapFrame(ReadOnlySpan<byte> data, long timestampNanoseconds, int originalLength)
    {
        Data = data;
        TimestampNanoseconds = timestampNanoseconds;
        OriginalLength = originalLength;
    }

    /// <summary>The captured bytes (at most the snap length), starting with the link-layer header.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>Capture time, nanoseconds since the Unix epoch (microsecond resolution when the handle is micro).</summary>
    public long TimestampNanoseconds { get; }

    /// <summary>Length of the frame on the wire; larger than Data.Length when truncated by the snap length.</summary>
    public int OriginalLength { get; }
}
