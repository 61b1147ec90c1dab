internal static partial class Interop
{
    /// <summary>The errno values this layer branches on (Linux numbering, same on x86_64 and arm64).</summary>
    internal static class Errno
    {
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int EINTR = 4;
        internal const int EIO = 5;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int ENODEV = 19;
        internal const int EINVAL = 22;
        internal const int ENOBUFS = 105;
    }
}
