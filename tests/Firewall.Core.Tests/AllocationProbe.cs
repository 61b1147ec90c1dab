namespace Firewall.Core.Tests;

/// <summary>Bytes a piece of code allocates on the current thread.</summary>
internal static class AllocationProbe
{
    /// <summary>
    /// The least of three measurements. The per-thread counter occasionally reports a few KB that the measured code did
    /// not allocate (seen when other tests' threads make the GC run meanwhile); code that does allocate shows it in
    /// every attempt, so the minimum stays a strict check.
    /// </summary>
    public static long LeastBytesAllocated(Action run, int attempts = 3)
    {
        long least = long.MaxValue;
        for (int i = 0; i < attempts && least != 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            run();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
