using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>BSD socket calls used for netlink and interface ioctls.</summary>
    internal static partial class Socket
    {
        internal const int AF_UNIX = 1;
        internal const int AF_INET = 2;
        internal const int AF_NETLINK = 16;
        internal const int SOCK_DGRAM = 2;
        internal const int SOCK_RAW = 3;
        internal const int SOCK_CLOEXEC = 0x80000;

        internal const int SOL_SOCKET = 1;
        internal const int SO_RCVBUF = 8;
        internal const int SO_RCVTIMEO = 20;
        internal const int SO_RCVBUFFORCE = 33;
        internal const int SO_PEERCRED = 17;
        internal const int SO_PEERGROUPS = 59;

        /// <summary>struct ucred (SO_PEERCRED).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct UCred
        {
            internal int Pid;
            internal uint Uid;
            internal uint Gid;
        }

        internal const int MSG_DONTWAIT = 0x40;

        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Create(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        internal static partial int Bind(int fd, void* address, uint addressLength);

        [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
        internal static partial nint Send(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static partial nint Receive(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static partial int SetOption(int fd, int level, int name, void* value, uint valueLength);

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
        internal static partial int GetOption(int fd, int level, int name, void* value, uint* valueLength);
    }
}
