using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>linux/netlink.h and linux/netfilter/nfnetlink.h wire basics (host byte order unless noted).</summary>
    internal static class Netlink
    {
        internal const int NETLINK_NETFILTER = 12;

        internal const int SOL_NETLINK = 270;
        internal const int NETLINK_NO_ENOBUFS = 5;

        internal const ushort NLM_F_REQUEST = 0x1;
        internal const ushort NLM_F_ACK = 0x4;

        internal const ushort NLMSG_NOOP = 1;
        internal const ushort NLMSG_ERROR = 2;
        internal const ushort NLMSG_DONE = 3;

        internal const int NlMsgHdrSize = 16;
        internal const int NfGenMsgSize = 4;
        internal const int NlAttrHeaderSize = 4;
        /// <summary>nlmsghdr + nfgenmsg: where attributes of an nfnetlink message start.</summary>
        internal const int NfnlPayloadOffset = NlMsgHdrSize + NfGenMsgSize;

        internal const ushort NLA_TYPE_MASK = 0x3fff;

        internal const byte NFNETLINK_V0 = 0;

        /// <summary>struct sockaddr_nl (12 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct SockAddrNl
        {
            internal ushort Family;
            private readonly ushort _padding;
            internal uint PortId;
            internal uint Groups;
        }

        /// <summary>struct nlmsghdr (16 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct NlMsgHdr
        {
            internal uint Length;
            internal ushort Type;
            internal ushort Flags;
            internal uint Sequence;
            internal uint PortId;
        }

        internal static int Align4(int length) => (length + 3) & ~3;
    }
}
