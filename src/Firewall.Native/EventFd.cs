namespace Firewall.Native;

/// <summary>
/// A non-blocking eventfd, the base of the wake-ups readers poll together with their descriptor: <see cref="Signal"/>
/// makes it readable (from any thread), <see cref="Drain"/> makes it unreadable again.
/// </summary>
public abstract unsafe class EventFd : IDisposable
{
    private int _fd;

    protected EventFd()
    {
        _fd = Interop.EventFd.Create(0, Interop.EventFd.EFD_CLOEXEC | Interop.EventFd.EFD_NONBLOCK);
        if (_fd < 0) NativeException.ThrowLast("eventfd");
    }

    /// <summary>Adds one to the counter: pollers see it readable. EAGAIN only when the counter would overflow: it is
    /// readable already.</summary>
    protected void Signal()
    {
        ulong one = 1;
        _ = Interop.Libc.Write(Fd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>Reads the counter back to zero (EAGAIN when it was zero: fine).</summary>
    protected void Drain()
    {
        ulong value;
        _ = Interop.Libc.Read(Fd, (byte*)&value, sizeof(ulong));
    }

    internal int Fd
    {
        get
        {
            int fd = _fd;
            ObjectDisposedException.ThrowIf(fd < 0, this);
            return fd;
        }
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Interop.Libc.Close(fd);
        GC.SuppressFinalize(this);
    }
}
