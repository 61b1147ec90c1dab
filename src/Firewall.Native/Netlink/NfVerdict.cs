namespace Firewall.Native.Netlink;

/// <summary>Netfilter verdicts (NF_*).</summary>
public enum NfVerdict : uint
{
    Drop = 0,
    Accept = 1,
    Stolen = 2,
    Queue = 3,
    /// <summary>Run the same hook again (the packet gets re-queued if the rule still says NFQUEUE).</summary>
    Repeat = 4,
    Stop = 5,
}
