using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>sched_setscheduler(2): pid 0 is the calling thread.</summary>
    internal static partial class Sched
    {
        internal const int SCHED_OTHER = 0;
        internal const int SCHED_FIFO = 1;

        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setscheduler", SetLastError = true)]
        internal static partial int SetScheduler(int pid, int policy, int* priority);

        [LibraryImport(Libraries.Libc, EntryPoint = "sched_getscheduler", SetLastError = true)]
        internal static partial int GetScheduler(int pid);
    }
}
