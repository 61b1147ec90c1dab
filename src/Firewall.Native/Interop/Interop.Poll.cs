using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    internal static partial class Poll
    {
        internal const short POLLIN = 0x001;
        internal const short POLLERR = 0x008;
        internal const short POLLHUP = 0x010;
        internal const short POLLNVAL = 0x020;

        /// <summary>struct pollfd (8 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            internal int Fd;
            internal short Events;
            internal short ReturnedEvents;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
        internal static partial int Wait(PollFd* fds, nuint count, int timeoutMilliseconds);
    }
}
