internal static partial class Interop
{
    /// <summary>linux/netfilter/nfnetlink_queue.h. Multi-byte attribute payloads are big-endian.</summary>
    internal static class NfQueue
    {
        internal const byte NFNL_SUBSYS_QUEUE = 3;

        internal const byte NFQNL_MSG_PACKET = 0;
        internal const byte NFQNL_MSG_VERDICT = 1;
        internal const byte NFQNL_MSG_CONFIG = 2;
        internal const byte NFQNL_MSG_VERDICT_BATCH = 3;

        internal static ushort MessageType(byte message) => (ushort)((NFNL_SUBSYS_QUEUE << 8) | message);

        // NFQA_CFG_*
        internal const ushort NFQA_CFG_CMD = 1;
        internal const ushort NFQA_CFG_PARAMS = 2;
        internal const ushort NFQA_CFG_QUEUE_MAXLEN = 3;
        internal const ushort NFQA_CFG_MASK = 4;
        internal const ushort NFQA_CFG_FLAGS = 5;

        internal const byte NFQNL_CFG_CMD_BIND = 1;
        internal const byte NFQNL_CFG_CMD_UNBIND = 2;

        internal const byte NFQNL_COPY_PACKET = 2;

        // NFQA_*
        internal const ushort NFQA_PACKET_HDR = 1;
        internal const ushort NFQA_VERDICT_HDR = 2;
        internal const ushort NFQA_MARK = 3;
        internal const ushort NFQA_TIMESTAMP = 4;
        internal const ushort NFQA_IFINDEX_INDEV = 5;
        internal const ushort NFQA_IFINDEX_OUTDEV = 6;
        internal const ushort NFQA_IFINDEX_PHYSINDEV = 7;
        internal const ushort NFQA_IFINDEX_PHYSOUTDEV = 8;
        internal const ushort NFQA_PAYLOAD = 10;
        internal const ushort NFQA_CAP_LEN = 13;
        internal const ushort NFQA_SKB_INFO = 14;

        /// <summary>nfqnl_msg_packet_hdr (7 bytes packed): be32 packet_id, be16 hw_protocol, u8 hook.</summary>
        internal const int PacketHdrSize = 7;

        /// <summary>nfqnl_msg_packet_timestamp: be64 sec, be64 usec.</summary>
        internal const int TimestampSize = 16;

        /// <summary>nlmsghdr + nfgenmsg + nlattr(VERDICT_HDR) + nfqnl_msg_verdict_hdr{be32 verdict, be32 id}.</summary>
        internal const int VerdictMessageSize = 32;

        /// <summary>Optional NFQA_MARK attribute appended to a verdict: nlattr + be32.</summary>
        internal const int MarkAttributeSize = 8;
    }
}
