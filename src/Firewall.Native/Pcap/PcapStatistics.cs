namespace Firewall.Native.Pcap;

/// <summary>pcap_stats counters (cumulative since activation, 32-bit and wrapping).</summary>
/// <param name="Received">ps_recv: frames the socket received, including ones the direction filter then hid.</param>
/// <param name="Dropped">ps_drop: frames dropped because the ring was full.</param>
/// <param name="InterfaceDropped">ps_ifdrop: frames the interface dropped.</param>
public readonly record struct PcapStatistics(uint Received, uint Dropped, uint InterfaceDropped);
