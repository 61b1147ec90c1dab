using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class EventFd
    {
        internal const int EFD_CLOEXEC = 0x80000;
        internal const int EFD_NONBLOCK = 0x800;

        [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int Create(uint initialValue, int flags);
    }
}
