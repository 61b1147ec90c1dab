using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>ioctl with a pointer argument (variadic in C; a fixed pointer third argument is fine on Linux x64/arm64).</summary>
    internal static partial class Ioctl
    {
        internal const uint SIOCGIFFLAGS = 0x8913;
        internal const uint SIOCGIFMTU = 0x8921;

        internal const int IfNameSize = 16;

        /// <summary>struct ifreq (40 bytes): char ifr_name[16], then a union whose first member is short ifr_flags.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 40)]
        internal struct IfReq
        {
            internal fixed byte Name[IfNameSize];
            internal short Flags;

            /// <summary>ifr_mtu: the same union, read as an int.</summary>
            internal int Mtu
            {
                get { fixed (short* p = &Flags) return *(int*)p; }
            }
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Invoke(int fd, nuint request, void* argument);
    }
}
