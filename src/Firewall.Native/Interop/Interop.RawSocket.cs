using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>Raw IP sockets (IPPROTO_RAW: the caller writes the whole IP header) for answers the firewall sends itself.</summary>
    internal static partial class RawSocket
    {
        internal const int AF_INET6 = 10;
        internal const int IPPROTO_RAW = 255;

        [StructLayout(LayoutKind.Sequential)]
        internal struct SockAddrIn
        {
            internal ushort Family;
            internal ushort Port;
            internal uint Address; // network order
            internal ulong Zero;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct SockAddrIn6
        {
            internal ushort Family;
            internal ushort Port;
            internal uint FlowInfo;
            internal fixed byte Address[16];
            internal uint ScopeId;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "sendto", SetLastError = true)]
        internal static partial nint SendTo(int fd, byte* buffer, nuint length, int flags, void* address, uint addressLength);
    }
}
