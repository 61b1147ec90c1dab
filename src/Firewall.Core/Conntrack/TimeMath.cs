using System.Runtime.CompilerServices;

namespace Firewall.Core.Conntrack;

/// <summary>The engine clock: a 32-bit millisecond counter compared wrap-safely (like the kernel's jiffies).</summary>
internal static class TimeMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ToMs(long nowNs) => (uint)(ulong)(nowNs / 1_000_000);

    /// <summary>a is at or before b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AtOrBefore(uint a, uint b) => (int)(a - b) <= 0;

    /// <summary>Milliseconds left until <paramref name="deadline"/>, 0 when passed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Remaining(uint deadline, uint now)
    {
        int d = (int)(deadline - now);
        return d > 0 ? (uint)d : 0;
    }
}
