using System.Runtime.InteropServices;
using System.Text;

namespace Firewall.Native.Tun;

/// <summary>
/// A TUN interface (IFF_TUN | IFF_NO_PI): each Read returns one IP packet (v4 or v6: look at the version nibble),
/// each Write sends one. Created in the calling thread's network namespace; the device disappears (with its routes)
/// when the last descriptor closes. Writes fail with EIO while the interface is down.
/// </summary>
public sealed unsafe class TunDevice : IDisposable
{
    /// <summary>IFNAMSIZ - 1.</summary>
    public const int MaxNameLength = 15;

    private readonly StopEvent _stop;
    private readonly bool _ownsStop;
    private int _fd;

    private TunDevice(int fd, string name, StopEvent? stop)
    {
        _fd = fd;
        Name = name;
        _ownsStop = stop is null;
        _stop = stop ?? new StopEvent();
    }

    /// <summary>The interface name the kernel confirmed (a "%d" pattern is expanded).</summary>
    public string Name { get; }

    /// <summary>
    /// Opens /dev/net/tun and attaches it to (creating if needed) the TUN interface name.
    /// multiQueue: IFF_MULTI_QUEUE, so the same name can be opened again for another queue.
    /// stop: an event shared with other readers (default: private, see <see cref="RequestStop"/>).
    /// </summary>
    public static TunDevice Create(string name, bool multiQueue = false, StopEvent? stop = null)
    {
        ValidateName(name);
        // Non-blocking: Read tries read() first and polls only when nothing is pending (one syscall per packet under load).
        int fd = Interop.Libc.Open(Interop.Tun.DevicePath, Interop.Libc.O_RDWR | Interop.Libc.O_CLOEXEC | Interop.Libc.O_NONBLOCK, 0);
        if (fd < 0) NativeException.ThrowLast($"open {Interop.Tun.DevicePath}");

        Interop.Ioctl.IfReq request = default;
        Encoding.ASCII.GetBytes(name, new Span<byte>(request.Name, Interop.Ioctl.IfNameSize - 1));
        request.Flags = (short)(Interop.Tun.IFF_TUN | Interop.Tun.IFF_NO_PI | (multiQueue ? Interop.Tun.IFF_MULTI_QUEUE : 0));
        if (Interop.Ioctl.Invoke(fd, Interop.Tun.TUNSETIFF, &request) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Interop.Libc.Close(fd);
            NativeException.Throw($"TUNSETIFF {name}", errno);
        }
        string actual = Marshal.PtrToStringUTF8((nint)request.Name) ?? name;
        return new TunDevice(fd, actual, stop);
    }

    internal static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxNameLength)
            throw new ArgumentException($"interface name '{name}' is longer than {MaxNameLength} characters", nameof(name));
        foreach (char c in name)
            if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
                throw new ArgumentException($"interface name '{name}' contains an invalid character", nameof(name));
    }

    /// <summary>
    /// Waits for one packet (or stop, or timeout; -1 = no timeout) and copies it into buffer. A buffer shorter than the
    /// packet gets a truncated copy (size it to the MTU + headroom, e.g. 65535).
    /// </summary>
    public WaitResult Read(Span<byte> buffer, out int length, int timeoutMilliseconds = -1)
    {
        length = 0;
        while (!_stop.IsSet)
        {
            nint n;
            fixed (byte* data = buffer)
                n = Interop.Libc.Read(Fd, data, (nuint)buffer.Length);
            if (n >= 0)
            {
                length = (int)n;
                return WaitResult.Readable;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Errno.EINTR) continue;
            if (errno != Interop.Errno.EAGAIN) NativeException.Throw($"read {Name}", errno);
            WaitResult wait = _stop.Wait(Fd, timeoutMilliseconds);
            if (wait != WaitResult.Readable) return wait;
        }
        return WaitResult.Stopped;
    }

    /// <summary>Writes one IP packet; returns 0 or the errno (EIO while the interface is down, EINVAL for garbage).</summary>
    public int TryWrite(ReadOnlySpan<byte> packet)
    {
        fixed (byte* data = packet)
        {
            while (Interop.Libc.Write(Fd, data, (nuint)packet.Length) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR) return errno;
            }
        }
        return 0;
    }

    /// <summary>Writes one IP packet; throws NativeException on failure.</summary>
    public void Write(ReadOnlySpan<byte> packet)
    {
        int errno = TryWrite(packet);
        if (errno != 0) NativeException.Throw($"write {packet.Length} bytes to {Name}", errno);
    }

    /// <summary>Makes a blocked or later Read return Stopped. Any thread.</summary>
    public void RequestStop() => _stop.Set();

    private int Fd
    {
        get
        {
            int fd = _fd;
            ObjectDisposedException.ThrowIf(fd < 0, this);
            return fd;
        }
    }

    /// <summary>Closes the descriptor (the interface goes away unless persistent). Call after the reader stopped.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Interop.Libc.Close(fd);
        if (_ownsStop) _stop.Dispose();
    }
}
