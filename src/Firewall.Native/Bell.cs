namespace Firewall.Native;

/// <summary>
/// A re-armable wake-up for one waiting thread (an eventfd): <see cref="Ring"/> from any thread; <see cref="Wait"/>
/// returns when it has been rung since the last wait, or the stop event is set, or the timeout elapses. A ring that
/// comes before the wait is not lost.
/// </summary>
public sealed unsafe class Bell : IDisposable
{
    private int _fd;

    public Bell()
    {
        _fd = Interop.EventFd.Create(0, Interop.EventFd.EFD_CLOEXEC | Interop.EventFd.EFD_NONBLOCK);
        if (_fd < 0) NativeException.ThrowLast("eventfd");
    }

    public void Ring()
    {
        ulong one = 1;
        _ = Interop.Libc.Write(Fd, (byte*)&one, sizeof(ulong)); // EAGAIN only when the counter would overflow: rung already
    }

    /// <summary>Readable when rung (the rings are then consumed), Stopped, or Timeout.</summary>
    public WaitResult Wait(StopEvent stop, int timeoutMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(stop);
        WaitResult w = stop.Wait(Fd, timeoutMilliseconds);
        if (w == WaitResult.Readable)
        {
            ulong value;
            _ = Interop.Libc.Read(Fd, (byte*)&value, sizeof(ulong));
        }
        return w;
    }

    private int Fd
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
    }
}
