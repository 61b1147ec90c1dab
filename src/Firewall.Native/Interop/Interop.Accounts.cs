using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>User and group database (through NSS) and file ownership.</summary>
    internal static partial class Accounts
    {
        /// <summary>struct group (64-bit glibc): name, password, gid (padded), member list.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Group
        {
            internal byte* Name;
            internal byte* Password;
            internal uint Gid;
            private uint _pad;
            internal byte** Members;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int GetGroupByName(string name, Group* group, byte* buffer, nuint bufferLength, Group** result);

        [LibraryImport(Libraries.Libc, EntryPoint = "geteuid")]
        internal static partial uint GetEffectiveUserId();

        [LibraryImport(Libraries.Libc, EntryPoint = "getegid")]
        internal static partial uint GetEffectiveGroupId();

        [LibraryImport(Libraries.Libc, EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Chown(string path, uint owner, uint group);
    }
}
