using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>madvise(2).</summary>
    internal static partial class Libc
    {
        internal const int MADV_HUGEPAGE = 14;

        [LibraryImport(Libraries.Libc, EntryPoint = "madvise", SetLastError = true)]
        internal static partial int Madvise(void* address, nuint length, int advice);
    }
}
