using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Namespaces
    {
        internal const int CLONE_NEWNET = 0x40000000;

        /// <summary>Moves the calling thread (only that thread) into the namespace behind fd.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "setns", SetLastError = true)]
        internal static partial int SetNs(int fd, int namespaceType);
    }
}
