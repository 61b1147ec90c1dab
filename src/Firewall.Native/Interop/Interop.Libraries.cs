internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>Debian's runtime package ships only the versioned name (no libpcap.so symlink without -dev).</summary>
        internal const string Pcap = "libpcap.so.0.8";

        /// <summary>glibc.</summary>
        internal const string Libc = "libc";
    }
}
