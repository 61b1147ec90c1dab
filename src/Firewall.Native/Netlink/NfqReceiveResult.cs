namespace Firewall.Native.Netlink;

public enum NfqReceiveResult
{
    /// <summary>A datagram arrived; read its packets from the reader.</summary>
    Received,
    Timeout,
    /// <summary>The stop event is set.</summary>
    Stopped,
}
