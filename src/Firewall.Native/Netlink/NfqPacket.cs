namespace Firewall.Native.Netlink;

/// <summary>
/// One queued packet, parsed in place from the receive buffer: valid until the next Receive on the queue.
/// Absent optional attributes read as 0.
/// </summary>
public readonly ref struct NfqPacket
{
    internal NfqPacket(
        ushort queueNumber, uint packetId, ushort hardwareProtocol, NfHook hook, ReadOnlySpan<byte> payload,
        uint mark, uint inInterfaceIndex, uint outInterfaceIndex, uint physicalInInterfaceIndex,
        uint physicalOutInterfaceIndex, NfqSkbInfo skbInfo, uint capturedLength, long timestampNanoseconds)
    {
        QueueNumber = queueNumber;
        PacketId = packetId;
        HardwareProtocol = hardwareProtocol;
        Hook = hook;
        Payload = payload;
        Mark = mark;
        InInterfaceIndex = inInterfaceIndex;
        OutInterfaceIndex = outInterfaceIndex;
        PhysicalInInterfaceIndex = physicalInInterfaceIndex;
        PhysicalOutInterfaceIndex = physicalOutInterfaceIndex;
        SkbInfo = skbInfo;
        OriginalLength = capturedLength != 0 ? capturedLength : (uint)payload.Length;
        TimestampNanoseconds = timestampNanoseconds;
    }

    public ushort QueueNumber { get; }

    /// <summary>What the verdict refers to; increases by one per packet queued (per queue).</summary>
    public uint PacketId { get; }

    /// <summary>EtherType of the packet (0x0800 IPv4, 0x86DD IPv6).</summary>
    public ushort HardwareProtocol { get; }

    public NfHook Hook { get; }

    /// <summary>The packet from its IP header on (no link-layer header); may be truncated to the copy range.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public uint Mark { get; }

    public uint InInterfaceIndex { get; }

    public uint OutInterfaceIndex { get; }

    /// <summary>Bridge port the packet came in on (bridged traffic only).</summary>
    public uint PhysicalInInterfaceIndex { get; }

    public uint PhysicalOutInterfaceIndex { get; }

    public NfqSkbInfo SkbInfo { get; }

    /// <summary>Full packet length (NFQA_CAP_LEN when the payload was truncated, else the payload length).</summary>
    public uint OriginalLength { get; }

    /// <summary>Receive time from NFQA_TIMESTAMP in ns since the Unix epoch; 0 when the kernel sent none.</summary>
    public long TimestampNanoseconds { get; }
}
