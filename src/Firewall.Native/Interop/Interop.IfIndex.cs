using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>Interface name/index mapping (answers for the calling thread's network namespace).</summary>
    internal static partial class IfIndex
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial uint NameToIndex(string name);

        /// <summary>buffer must hold IF_NAMESIZE (16) bytes; returns buffer or null.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "if_indextoname", SetLastError = true)]
        internal static partial byte* IndexToName(uint index, byte* buffer);
    }
}
