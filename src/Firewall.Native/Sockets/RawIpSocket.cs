using System.Runtime.InteropServices;

namespace Firewall.Native.Sockets;

/// <summary>
/// Sends complete IPv4 and IPv6 packets (header included, IPPROTO_RAW) from the calling thread's network namespace:
/// the packet leaves through the host's routing and its OUTPUT hook like the kernel's own REJECT answers.
/// The source address may be any address (hdrincl sockets may send from addresses the host does not own).
/// Needs CAP_NET_RAW. One thread at a time.
/// </summary>
public sealed unsafe class RawIpSocket : IDisposable
{
    private int _fd4 = -1, _fd6 = -1;

    /// <summary>Opens the IPv4 and IPv6 sockets; throws NativeException (EPERM without CAP_NET_RAW).</summary>
    public RawIpSocket()
    {
        try
        {
            _fd4 = Open(Interop.Socket.AF_INET, "AF_INET");
            _fd6 = Open(Interop.RawSocket.AF_INET6, "AF_INET6");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private static int Open(int family, string name)
    {
        int fd = Interop.Socket.Create(family, Interop.Socket.SOCK_RAW | Interop.Socket.SOCK_CLOEXEC, Interop.RawSocket.IPPROTO_RAW);
        if (fd < 0) NativeException.ThrowLast($"socket({name}, SOCK_RAW, IPPROTO_RAW)");
        return fd;
    }

    /// <summary>Sends one IP packet (version nibble decides the family) to its destination address. Returns 0 or the errno.</summary>
    public int TrySend(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 20) return Interop.Errno.EINVAL;
        int version = packet[0] >> 4;
        fixed (byte* data = packet)
        {
            nint rc;
            if (version == 4)
            {
                var to = new Interop.RawSocket.SockAddrIn { Family = Interop.Socket.AF_INET, Address = *(uint*)(data + 16) };
                rc = Interop.RawSocket.SendTo(Fd(_fd4), data, (nuint)packet.Length, 0, &to, (uint)sizeof(Interop.RawSocket.SockAddrIn));
            }
            else if (version == 6 && packet.Length >= 40)
            {
                var to = new Interop.RawSocket.SockAddrIn6 { Family = Interop.RawSocket.AF_INET6 };
                for (int i = 0; i < 16; i++) to.Address[i] = data[24 + i];
                rc = Interop.RawSocket.SendTo(Fd(_fd6), data, (nuint)packet.Length, 0, &to, (uint)sizeof(Interop.RawSocket.SockAddrIn6));
            }
            else return Interop.Errno.EINVAL;
            return rc < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }

    private int Fd(int fd)
    {
        ObjectDisposedException.ThrowIf(fd < 0, this);
        return fd;
    }

    public void Dispose()
    {
        int fd4 = Interlocked.Exchange(ref _fd4, -1), fd6 = Interlocked.Exchange(ref _fd6, -1);
        if (fd4 >= 0) Interop.Libc.Close(fd4);
        if (fd6 >= 0) Interop.Libc.Close(fd6);
    }
}
