namespace Firewall.Core.Rules;

/// <summary>
/// A lock-free token bucket (the generic cell-rate algorithm): one 64-bit "theoretical arrival time"
/// advanced with a compare-and-swap. It starts full, holds <c>burst</c> tokens and refills one token per
/// <c>interval</c>. Time is injected (nanoseconds, any monotonic origin).
/// </summary>
public sealed class TokenBucket
{
    private readonly long _intervalNs;
    private readonly long _toleranceNs;
    private long _tat = long.MinValue;

    /// <param name="intervalNs">Nanoseconds per token (period / rate).</param>
    /// <param name="burst">Tokens available at once (at least 1).</param>
    public TokenBucket(long intervalNs, int burst)
    {
        if (intervalNs <= 0) throw new ArgumentOutOfRangeException(nameof(intervalNs));
        if (burst < 1) throw new ArgumentOutOfRangeException(nameof(burst));
        _intervalNs = intervalNs;
        _toleranceNs = checked(intervalNs * (burst - 1));
    }

    public long IntervalNs => _intervalNs;

    /// <summary>Takes one token if one is available at <paramref name="nowNs"/>.</summary>
    public bool TryTake(long nowNs)
    {
        long tat = Volatile.Read(ref _tat);
        while (true)
        {
            long basis = tat > nowNs ? tat : nowNs;
            if (basis - nowNs > _toleranceNs) return false;
            long seen = Interlocked.CompareExchange(ref _tat, basis + _intervalNs, tat);
            if (seen == tat) return true;
            tat = seen;
        }
    }
}
