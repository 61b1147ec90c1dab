namespace Firewall.Native.Scheduling;

/// <summary>
/// Which CPUs a thread may run on (sched_setaffinity on the calling thread, as taskset does for a process). A reader
/// that busy-polls is best kept on a CPU of its own, away from the programs whose packets it reads: then it never
/// waits for them to yield the CPU, nor they for it.
/// </summary>
public static unsafe class CpuAffinity
{
    /// <summary>Highest CPU number a mask can hold (cpu_set_t).</summary>
    public const int MaxCpu = Interop.Sched.CpuSetBytes * 8 - 1;

    /// <summary>The CPUs the calling thread may run on now, in ascending order.</summary>
    public static IReadOnlyList<int> Allowed()
    {
        byte* mask = stackalloc byte[Interop.Sched.CpuSetBytes];
        if (Interop.Sched.GetAffinity(0, Interop.Sched.CpuSetBytes, mask) != 0) NativeException.ThrowLast("sched_getaffinity");
        var cpus = new List<int>();
        for (int cpu = 0; cpu <= MaxCpu; cpu++)
            if ((mask[cpu >> 3] & (1 << (cpu & 7))) != 0) cpus.Add(cpu);
        return cpus;
    }

    /// <summary>Keeps the calling thread on one CPU from now on; throws NativeException (EINVAL: not an allowed CPU).</summary>
    public static void PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpu, MaxCpu);
        byte* mask = stackalloc byte[Interop.Sched.CpuSetBytes];
        new Span<byte>(mask, Interop.Sched.CpuSetBytes).Clear();
        mask[cpu >> 3] = (byte)(1 << (cpu & 7));
        if (Interop.Sched.SetAffinity(0, Interop.Sched.CpuSetBytes, mask) != 0) NativeException.ThrowLast($"sched_setaffinity CPU {cpu}");
    }
}
