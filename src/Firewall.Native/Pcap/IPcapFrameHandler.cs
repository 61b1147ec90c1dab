namespace Firewall.Native.Pcap;

/// <summary>
/// Receives frames from <see cref="PcapHandle.Dispatch"/> on the dispatching thread, straight out of libpcap's ring.
/// An exception stops the dispatch (pcap_breakloop) and is rethrown from Dispatch.
/// </summary>
public interface IPcapFrameHandler
{
    void OnFrame(in PcapFrame frame);
}
