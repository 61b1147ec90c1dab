namespace Firewall.Daemon.Logging;

/// <summary>A per-second budget for log events, counting what it refuses (single consumer thread).</summary>
public sealed class RateLimiter(int perSecond)
{
    private long _windowStart = Environment.TickCount64;
    private int _used;
    private long _suppressed;

    /// <summary>Events refused since the last <see cref="TakeSuppressed"/>.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    public bool TryTake(long nowMs)
    {
        if (nowMs - _windowStart >= 1000) { _windowStart = nowMs; _used = 0; }
        if (_used < perSecond) { _used++; return true; }
        Interlocked.Increment(ref _suppressed);
        return false;
    }

    public bool TryTake() => TryTake(Environment.TickCount64);

    public long TakeSuppressed() => Interlocked.Exchange(ref _suppressed, 0);
}
