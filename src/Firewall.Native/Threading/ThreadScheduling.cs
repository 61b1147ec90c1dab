using System.Runtime.InteropServices;

namespace Firewall.Native.Threading;

/// <summary>The calling thread's scheduling policy (Linux: sched_setscheduler on a thread id of 0 = this thread only).</summary>
public static unsafe class ThreadScheduling
{
    /// <summary>
    /// Makes the calling thread SCHED_FIFO at <paramref name="priority"/> (1–99): it runs as soon as it is woken, ahead
    /// of every normal thread. Needs CAP_SYS_NICE (or RLIMIT_RTPRIO). Returns 0 or the errno.
    /// </summary>
    public static int TrySetRealtime(int priority)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(priority, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, 99);
        int value = priority;
        return Interop.Sched.SetScheduler(0, Interop.Sched.SCHED_FIFO, &value) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>True when the calling thread runs SCHED_FIFO.</summary>
    public static bool IsRealtime() => Interop.Sched.GetScheduler(0) == Interop.Sched.SCHED_FIFO;
}
