namespace Firewall.Native.Pcap;

/// <summary>Reads a pcap file (pcap_open_offline) with nanosecond timestamps; ReadNext returns EndOrBreak at the end.</summary>
public sealed unsafe class PcapOfflineReader : PcapHandle
{
    private PcapOfflineReader(nint pcap, string path) : base(pcap, path)
    {
        ReadTimestampPrecision();
    }

    public static PcapOfflineReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        PcapLibrary.EnsureInitialized();
        byte* errbuf = stackalloc byte[Interop.Pcap.PCAP_ERRBUF_SIZE];
        errbuf[0] = 0;
        nint pcap = Interop.Pcap.OpenOffline(path, Interop.Pcap.PCAP_TSTAMP_PRECISION_NANO, errbuf);
        if (pcap == 0)
            throw new PcapException($"pcap_open_offline {path}", Interop.Pcap.PCAP_ERROR, PcapLibrary.ReadErrorBuffer(errbuf));
        return new PcapOfflineReader(pcap, path);
    }
}
