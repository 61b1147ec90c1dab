namespace Firewall.Native.Pcap;

/// <summary>A libpcap call failed. Carries pcap's own message (pcap_geterr / errbuf) and the status code.</summary>
public sealed class PcapException : Exception
{
    public PcapException(string operation, int status, string pcapMessage)
        : base(Compose(operation, status, pcapMessage))
    {
        Operation = operation;
        Status = status;
        PcapMessage = pcapMessage;
    }

    /// <summary>e.g. "pcap_activate veth0".</summary>
    public string Operation { get; }

    /// <summary>pcap's return code (PCAP_ERROR = -1, PCAP_ERROR_NO_SUCH_DEVICE = -5, PCAP_ERROR_PERM_DENIED = -8, ...).</summary>
    public int Status { get; }

    /// <summary>The text libpcap reported, e.g. "No such device exists" or "unknown port 'nonsense'".</summary>
    public string PcapMessage { get; }

    private static string Compose(string operation, int status, string message) =>
        message.Length == 0 ? $"{operation} failed (status {status})" : $"{operation} failed: {message} (status {status})";
}
