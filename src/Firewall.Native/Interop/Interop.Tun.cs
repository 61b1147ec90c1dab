internal static partial class Interop
{
    /// <summary>Constants of linux/if_tun.h; the ioctls take a struct ifreq (see <see cref="Ioctl.IfReq"/>).</summary>
    internal static class Tun
    {
        internal const string DevicePath = "/dev/net/tun";

        internal const uint TUNSETIFF = 0x400454ca;
        internal const uint TUNSETPERSIST = 0x400454cb;

        internal const short IFF_TUN = 0x0001;
        internal const short IFF_MULTI_QUEUE = 0x0100;
        internal const short IFF_NO_PI = 0x1000;
    }
}
