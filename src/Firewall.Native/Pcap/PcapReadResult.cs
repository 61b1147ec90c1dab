namespace Firewall.Native.Pcap;

/// <summary>Outcome of <see cref="PcapHandle.ReadNext"/> (pcap_next_ex without the error case, which throws).</summary>
public enum PcapReadResult
{
    /// <summary>A frame was read.</summary>
    Frame,
    /// <summary>Live capture: the timeout elapsed, or nothing is ready in non-blocking mode.</summary>
    Timeout,
    /// <summary>pcap_breakloop was called, or a file reached its end.</summary>
    EndOrBreak,
}
