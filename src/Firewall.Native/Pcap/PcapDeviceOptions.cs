namespace Firewall.Native.Pcap;

/// <summary>Settings applied between pcap_create and pcap_activate (and right after activation).</summary>
public sealed class PcapDeviceOptions
{
    public int SnapLength { get; init; } = 65535;

    /// <summary>On Linux a per-socket PACKET_MR_PROMISC membership, not the interface's IFF_PROMISC flag.</summary>
    public bool Promiscuous { get; init; } = true;

    /// <summary>Deliver each frame at once (libpcap then uses TPACKET_V2 with equal ring slots).</summary>
    public bool ImmediateMode { get; init; } = true;

    /// <summary>Kernel ring size in bytes.</summary>
    public int BufferSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Read timeout for blocking reads; 0 means wait forever. A positive timeout is enforced by this class (poll on the
    /// selectable fd), because libpcap 1.10.3 in immediate mode keeps re-polling instead of returning when nothing arrives.
    /// </summary>
    public int TimeoutMilliseconds { get; init; } = 100;

    /// <summary>Ask for nanosecond timestamps (falls back to microseconds if unsupported; see PcapHandle.NanosecondTimestamps).</summary>
    public bool NanosecondTimestamps { get; init; } = true;

    /// <summary>In by default: other packet sockets' injections show up as outgoing and would loop a bridge.</summary>
    public PcapDirection Direction { get; init; } = PcapDirection.In;

    /// <summary>BPF filter (tcpdump syntax) installed after activation; null for none.</summary>
    public string? Filter { get; init; }

    /// <summary>pcap_setnonblock: reads return at once when nothing is buffered; pair with WaitForFrames.</summary>
    public bool NonBlocking { get; init; }
}
