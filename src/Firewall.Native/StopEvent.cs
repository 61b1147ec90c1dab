using System.Runtime.InteropServices;

namespace Firewall.Native;

/// <summary>
/// A shutdown signal that blocking readers poll together with their descriptor (an eventfd).
/// Once set it stays set, so one event can stop any number of readers on any threads.
/// Linux does not wake a thread blocked in read() when another thread closes the fd: this is the clean way out.
/// </summary>
public sealed unsafe class StopEvent : EventFd
{
    private volatile bool _set;

    /// <summary>Wakes every current and future waiter. Safe from any thread, including a signal handler callback.</summary>
    public void Set()
    {
        _set = true;
        Signal();
    }

    /// <summary>Clears the event (for private, re-armable uses such as a handle's break signal).</summary>
    internal void Reset()
    {
        _set = false;
        Drain();
    }

    /// <summary>Cheap check (a volatile field, no syscall) for loops that stay busy and rarely wait.</summary>
    public bool IsSet => _set;

    /// <summary>Waits for the stop event alone. timeoutMilliseconds -1 waits forever.</summary>
    public WaitResult Wait(int timeoutMilliseconds) => Wait(-1, timeoutMilliseconds);

    /// <summary>Waits until fd is readable (or in error), the event is set, or the timeout elapses.</summary>
    internal WaitResult Wait(int fd, int timeoutMilliseconds)
    {
        Span<int> fds = [fd];
        Span<bool> ready = stackalloc bool[1];
        int count = fd < 0 ? 0 : 1;
        return WaitAny(fds[..count], ready[..count], timeoutMilliseconds);
    }

    /// <summary>poll() over fds plus the event; ready[i] tells which fds are readable.</summary>
    internal WaitResult WaitAny(ReadOnlySpan<int> fds, Span<bool> ready, int timeoutMilliseconds)
    {
        const int MaxFds = 16;
        if (fds.Length > MaxFds) throw new ArgumentOutOfRangeException(nameof(fds), $"at most {MaxFds} descriptors");
        Interop.Poll.PollFd* set = stackalloc Interop.Poll.PollFd[MaxFds + 1];
        set[0] = new Interop.Poll.PollFd { Fd = Fd, Events = Interop.Poll.POLLIN };
        for (int i = 0; i < fds.Length; i++)
            set[i + 1] = new Interop.Poll.PollFd { Fd = fds[i], Events = Interop.Poll.POLLIN };

        int rc;
        long deadline = timeoutMilliseconds > 0 ? Environment.TickCount64 + timeoutMilliseconds : 0;
        int timeout = timeoutMilliseconds;
        while ((rc = Interop.Poll.Wait(set, (nuint)(fds.Length + 1), timeout)) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Errno.EINTR) NativeException.Throw("poll", errno);
            if (timeoutMilliseconds > 0) timeout = (int)Math.Max(0, deadline - Environment.TickCount64);
        }

        ready.Clear();
        if (rc == 0) return WaitResult.Timeout;
        if (set[0].ReturnedEvents != 0) return WaitResult.Stopped;
        for (int i = 0; i < fds.Length; i++)
            ready[i] = set[i + 1].ReturnedEvents != 0; // POLLERR/POLLHUP count as ready: the read reports the error
        return WaitResult.Readable;
    }
}
