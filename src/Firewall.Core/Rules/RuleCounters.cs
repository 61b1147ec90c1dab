namespace Firewall.Core.Rules;

/// <summary>
/// Packet and byte counters for rules and chain policies. Writers add to a stripe chosen by thread id
/// (so concurrent workers rarely share a cache line); readers sum the stripes.
/// </summary>
public sealed class RuleCounters
{
    private readonly long[][] _stripes;
    private readonly int _mask;
    public int Count { get; }

    public RuleCounters(int count, int stripes = 0)
    {
        if (stripes <= 0) stripes = Math.Clamp(Environment.ProcessorCount, 1, 16);
        int pow = 1;
        while (pow < stripes) pow <<= 1;
        Count = count;
        _mask = pow - 1;
        _stripes = new long[pow][];
        // 8 longs of padding at the end keep the last counters of one stripe off the next stripe's line.
        for (int i = 0; i < pow; i++) _stripes[i] = new long[count * 2 + 8];
    }

    public void Add(int slot, long bytes)
    {
        long[] s = _stripes[Environment.CurrentManagedThreadId & _mask];
        Interlocked.Increment(ref s[slot * 2]);
        Interlocked.Add(ref s[slot * 2 + 1], bytes);
    }

    /// <summary>Adds initial values (iptables-save -c counters).</summary>
    public void Preset(int slot, long packets, long bytes)
    {
        Interlocked.Add(ref _stripes[0][slot * 2], packets);
        Interlocked.Add(ref _stripes[0][slot * 2 + 1], bytes);
    }

    public (long Packets, long Bytes) Read(int slot)
    {
        long p = 0, b = 0;
        foreach (long[] s in _stripes)
        {
            p += Volatile.Read(ref s[slot * 2]);
            b += Volatile.Read(ref s[slot * 2 + 1]);
        }
        return (p, b);
    }

    /// <summary>Zeroes every counter (iptables -Z). Concurrent adds may survive.</summary>
    public void Reset()
    {
        foreach (long[] s in _stripes)
            for (int i = 0; i < s.Length; i++) Volatile.Write(ref s[i], 0);
    }
}
