using System.Runtime.InteropServices;
using System.Text;

namespace Firewall.Native.Interfaces;

/// <summary>
/// Interface lookups answered for the calling thread's network namespace (via if_nametoindex and ioctl, not /sys,
/// which keeps showing the namespace sysfs was mounted in).
/// </summary>
public static unsafe class NetDevice
{
    private const short IFF_UP = 0x1;
    private const short IFF_RUNNING = 0x40;

    /// <summary>if_nametoindex; 0 when there is no such interface.</summary>
    public static uint GetIndex(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Interop.IfIndex.NameToIndex(name);
    }

    /// <summary>if_indextoname; null when there is no such index.</summary>
    public static string? GetName(uint index)
    {
        byte* buffer = stackalloc byte[Interop.Ioctl.IfNameSize];
        byte* result = Interop.IfIndex.IndexToName(index, buffer);
        return result == null ? null : Marshal.PtrToStringUTF8((nint)result);
    }

    /// <summary>SIOCGIFFLAGS: administrative and carrier state.</summary>
    public static LinkState GetState(string name)
    {
        if (name.Length > Interop.Ioctl.IfNameSize - 1) return LinkState.Missing;
        if (!TryInterfaceIoctl(name, Interop.Ioctl.SIOCGIFFLAGS, "SIOCGIFFLAGS", out Interop.Ioctl.IfReq request)) return LinkState.Missing;
        if ((request.Flags & IFF_UP) == 0) return LinkState.Down;
        return (request.Flags & IFF_RUNNING) == 0 ? LinkState.NoCarrier : LinkState.Running;
    }

    /// <summary>SIOCGIFMTU: the interface's MTU (layer 3 payload size); throws NativeException (ENODEV) when there is no such interface.</summary>
    public static int GetMtu(string name)
    {
        if (name.Length <= Interop.Ioctl.IfNameSize - 1 && TryInterfaceIoctl(name, Interop.Ioctl.SIOCGIFMTU, "SIOCGIFMTU", out Interop.Ioctl.IfReq request))
            return request.Mtu;
        throw new NativeException($"SIOCGIFMTU {name}", Interop.Errno.ENODEV);
    }

    /// <summary>An ifreq ioctl on a throwaway socket; false when the interface does not exist, throws on other errors.</summary>
    private static bool TryInterfaceIoctl(string name, uint command, string commandName, out Interop.Ioctl.IfReq request)
    {
        request = default;
        int fd = Interop.Socket.Create(Interop.Socket.AF_INET, Interop.Socket.SOCK_DGRAM | Interop.Socket.SOCK_CLOEXEC, 0);
        if (fd < 0) NativeException.ThrowLast("socket(AF_INET, SOCK_DGRAM)");
        try
        {
            Interop.Ioctl.IfReq r = default;
            Encoding.UTF8.GetBytes(name, new Span<byte>(r.Name, Interop.Ioctl.IfNameSize - 1));
            if (Interop.Ioctl.Invoke(fd, command, &r) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Errno.ENODEV) return false;
                NativeException.Throw($"{commandName} {name}", errno);
            }
            request = r;
            return true;
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }

    /// <summary>
    /// Polls (every pollInterval, default 100 ms) until the interface is Running; false on timeout or stop.
    /// For a reader that lost its NIC and wants to reopen it.
    /// </summary>
    public static bool WaitUntilRunning(string name, TimeSpan timeout, StopEvent? stop = null, TimeSpan? pollInterval = null)
    {
        int interval = (int)(pollInterval ?? TimeSpan.FromMilliseconds(100)).TotalMilliseconds;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (GetState(name) == LinkState.Running) return true;
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return false;
            int wait = (int)Math.Min(interval, remaining);
            if (stop is null) Thread.Sleep(wait);
            else if (stop.Wait(wait) == WaitResult.Stopped) return false;
        }
    }
}
