namespace Firewall.Native.Netlink;

/// <summary>Snapshot of a queue's counters (maintained by the receiving thread).</summary>
/// <param name="Datagrams">Datagrams received.</param>
/// <param name="NoBufferErrors">ENOBUFS seen on receive: the socket buffer overran and packets were lost.</param>
/// <param name="Malformed">Messages skipped by the parser.</param>
/// <param name="ErrorMessages">Asynchronous NLMSG_ERRORs, e.g. a verdict for an id the kernel does not know.</param>
/// <param name="LastErrno">errno of the last such error.</param>
/// <param name="SingleVerdicts">Single verdict messages sent.</param>
/// <param name="BatchVerdicts">Batch verdict messages sent.</param>
/// <param name="Requeued">Packets that arrived while a configuration ACK was awaited and were handed back with NF_REPEAT.</param>
public readonly record struct NfQueueCounters(
    long Datagrams, long NoBufferErrors, long Malformed, long ErrorMessages, int LastErrno,
    long SingleVerdicts, long BatchVerdicts, long Requeued);
