namespace Firewall.Native.Netlink;

/// <summary>NFQA_CFG_F_* queue flags. The kernel only applies bits also present in the mask.</summary>
[Flags]
public enum NfQueueFlags : uint
{
    None = 0,
    /// <summary>Accept (unseen) packets that do not fit in the queue or socket buffer instead of dropping them.</summary>
    FailOpen = 0x1,
    /// <summary>Attach conntrack info; refused (EOPNOTSUPP) on kernels without NETFILTER_NETLINK_GLUE_CT.</summary>
    Conntrack = 0x2,
    /// <summary>Deliver GSO super-packets unsegmented (up to ~64 KB, checksums often partial).</summary>
    Gso = 0x4,
    UidGid = 0x8,
    SecurityContext = 0x10,
}
