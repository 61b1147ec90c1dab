using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>CPU affinity of the calling thread (pid 0 = the calling thread for the sched_*affinity calls).</summary>
    internal static partial class Sched
    {
        /// <summary>cpu_set_t as glibc declares it: 1024 bits.</summary>
        internal const int CpuSetBytes = 128;

        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
        internal static partial int SetAffinity(int pid, nuint size, byte* mask);

        [LibraryImport(Libraries.Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
        internal static partial int GetAffinity(int pid, nuint size, byte* mask);
    }
}
