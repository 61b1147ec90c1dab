namespace Firewall.Native.Pcap;

/// <summary>pcap_setdirection values. On Linux the filter runs in userspace after the frame was copied.</summary>
public enum PcapDirection
{
    InOut = 0,
    /// <summary>Only frames the interface received: a bridge needs this to avoid seeing its own injections via other sockets.</summary>
    In = 1,
    Out = 2,
}
