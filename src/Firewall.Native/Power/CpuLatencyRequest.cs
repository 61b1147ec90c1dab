namespace Firewall.Native.Power;

/// <summary>
/// A PM QoS request on /dev/cpu_dma_latency (what tuned's latency-performance profile holds): while open, the kernel
/// keeps every CPU out of idle states whose exit latency exceeds the value. At 0, idle CPUs poll instead of halting,
/// so a thread woken by a packet runs within microseconds instead of waiting for a halted CPU (on a virtual machine, a
/// halted vCPU) to come back. Costs power, and on a VM the host CPU time of the polling. Closing restores the default.
/// Needs root (the device is 0600).
/// </summary>
public sealed unsafe class CpuLatencyRequest : IDisposable
{
    public const string DevicePath = "/dev/cpu_dma_latency";
    private int _fd;

    private CpuLatencyRequest(int fd, int microseconds)
    {
        _fd = fd;
        Microseconds = microseconds;
    }

    public int Microseconds { get; }

    /// <summary>Opens the device and writes the limit; throws NativeException (ENOENT without PM QoS, EACCES without root).</summary>
    public static CpuLatencyRequest Hold(int microseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microseconds);
        int fd = Interop.Libc.Open(DevicePath, Interop.Libc.O_RDWR | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0) NativeException.ThrowLast($"open {DevicePath}");
        int value = microseconds;
        if (Interop.Libc.Write(fd, (byte*)&value, sizeof(int)) != sizeof(int))
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            Interop.Libc.Close(fd);
            NativeException.Throw($"write {DevicePath}", errno);
        }
        return new CpuLatencyRequest(fd, microseconds);
    }

    /// <summary>The limit the kernel currently applies (the smallest of all open requests), read back from the device.</summary>
    public static int ReadCurrent()
    {
        int fd = Interop.Libc.Open(DevicePath, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0) NativeException.ThrowLast($"open {DevicePath}");
        try
        {
            int value;
            if (Interop.Libc.Read(fd, (byte*)&value, sizeof(int)) != sizeof(int)) NativeException.ThrowLast($"read {DevicePath}");
            return value;
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        Interop.Libc.Close(_fd);
        _fd = -1;
    }
}
