namespace Firewall.Native.Netlink;

/// <summary>NFQA_SKB_INFO bits.</summary>
[Flags]
public enum NfqSkbInfo : uint
{
    None = 0,
    /// <summary>L4 checksum is partial (offload pending): do not validate it; recompute if the payload is changed.</summary>
    ChecksumNotReady = 0x1,
    /// <summary>The packet is a GSO super-packet (only with <see cref="NfQueueFlags.Gso"/>).</summary>
    Gso = 0x2,
    ChecksumNotVerified = 0x4,
}
