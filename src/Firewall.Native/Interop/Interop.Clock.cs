using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    internal static partial class Clock
    {
        internal const int CLOCK_MONOTONIC = 1;

        /// <summary>struct timespec (16 bytes on 64-bit).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TimeSpec
        {
            internal long Seconds;
            internal long Nanoseconds;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
        internal static partial int GetTime(int clockId, TimeSpec* time);
    }
}
