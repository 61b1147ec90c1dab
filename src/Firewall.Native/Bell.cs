namespace Firewall.Native;

/// <summary>
/// A re-armable wake-up for one waiting thread: <see cref="Ring"/> from any thread; <see cref="Wait"/> returns when it
/// has been rung since the last wait, or the stop event is set, or the timeout elapses. A ring that comes before the
/// wait is not lost.
/// </summary>
public sealed class Bell : EventFd
{
    public void Ring() => Signal();

    /// <summary>Readable when rung (the rings are then consumed), Stopped, or Timeout.</summary>
    public WaitResult Wait(StopEvent stop, int timeoutMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(stop);
        WaitResult w = stop.Wait(Fd, timeoutMilliseconds);
        if (w == WaitResult.Readable) Drain();
        return w;
    }
}
