namespace Firewall.Native.Netlink;

public sealed class NfQueueOptions
{
    /// <summary>Bytes of each packet copied to userspace (the kernel clamps to 65531).</summary>
    public uint CopyRange { get; init; } = 0xffff;

    /// <summary>NFQA_CFG_QUEUE_MAXLEN: packets waiting for a verdict before the kernel drops (or fail-opens).</summary>
    public uint MaxQueueLength { get; init; } = 1024;

    /// <summary>Flags to set; only bits in <see cref="FlagsMask"/> are touched.</summary>
    public NfQueueFlags Flags { get; init; }

    /// <summary>Which flags the Flags value applies to; null means exactly the bits in Flags.</summary>
    public NfQueueFlags? FlagsMask { get; init; }

    /// <summary>Kernel socket receive buffer (SO_RCVBUFFORCE, falling back to SO_RCVBUF capped by rmem_max). 0 keeps the default.</summary>
    public int SocketReceiveBufferBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>NETLINK_NO_ENOBUFS: hide "socket buffer overran" errors (the drops happen all the same).</summary>
    public bool SuppressNoBufferErrors { get; init; }

    /// <summary>Userspace receive buffer; 256 KB fits a GSO super-packet.</summary>
    public int ReceiveBufferBytes { get; init; } = 256 * 1024;

    /// <summary>Deferred accepts are sent as one batch verdict once this many are pending (or when the queue is idle).</summary>
    public int AcceptBatchSize { get; init; } = 64;

    /// <summary>How long a configuration request waits for the kernel's ACK.</summary>
    public int ConfigTimeoutMilliseconds { get; init; } = 5000;
}
