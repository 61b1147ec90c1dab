using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>AF_PACKET sockets with a memory-mapped transmit ring (TPACKET_V2), see packet(7) and packet_mmap.rst.</summary>
    internal static partial class Packet
    {
        internal const int AF_PACKET = 17;
        internal const int SOL_PACKET = 263;
        internal const int PACKET_VERSION = 10;
        internal const int PACKET_TX_RING = 13;
        internal const int PACKET_LOSS = 14;
        internal const int PACKET_QDISC_BYPASS = 20;
        internal const int PACKET_IGNORE_OUTGOING = 23;
        internal const int TPACKET_V2 = 1;

        /// <summary>tp_status of a transmit frame.</summary>
        internal const uint TP_STATUS_AVAILABLE = 0, TP_STATUS_SEND_REQUEST = 1, TP_STATUS_SENDING = 2, TP_STATUS_WRONG_FORMAT = 4;

        /// <summary>TPACKET_ALIGN(sizeof(struct tpacket2_hdr)): where a transmit frame's data starts within its slot.</summary>
        internal const int Tpacket2DataOffset = 32;

        /// <summary>struct tpacket2_hdr (32 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Tpacket2Hdr
        {
            internal uint Status;
            internal uint Len;
            internal uint SnapLen;
            internal ushort Mac;
            internal ushort Net;
            internal uint Sec;
            internal uint Nsec;
            internal ushort VlanTci;
            internal ushort VlanTpid;
            internal uint Padding;
        }

        /// <summary>struct tpacket_req.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TpacketReq
        {
            internal uint BlockSize;
            internal uint BlockCount;
            internal uint FrameSize;
            internal uint FrameCount;
        }

        /// <summary>struct sockaddr_ll (20 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct SockAddrLl
        {
            internal ushort Family;
            internal ushort Protocol; // network order
            internal int IfIndex;
            internal ushort HaType;
            internal byte PktType;
            internal byte HaLen;
            internal fixed byte Addr[8];
        }

        internal const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
        internal static readonly nint MAP_FAILED = -1;

        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial nint Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(void* address, nuint length);
    }
}
