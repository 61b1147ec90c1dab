namespace Firewall.Native.Netlink;

/// <summary>Netfilter hook a queued packet came from (NF_INET_*).</summary>
public enum NfHook : byte
{
    PreRouting = 0,
    LocalIn = 1,
    Forward = 2,
    LocalOut = 3,
    PostRouting = 4,
}
