using Firewall.Native.Power;

namespace Firewall.Integration.Tests.Native;

/// <summary>/dev/cpu_dma_latency: the kernel applies the smallest open request and forgets ours when it is closed.</summary>
[Collection("DataPaths")] // not beside CpuDmaLatencyTests: both read the one kernel-wide value
public sealed class CpuLatencyRequestTests
{
    [Fact]
    public void Hold_LowersTheKernelLimitUntilDisposed()
    {
        Assert.True(File.Exists(CpuLatencyRequest.DevicePath), $"{CpuLatencyRequest.DevicePath} is missing (kernel without PM QoS?)");
        int before = CpuLatencyRequest.ReadCurrent();
        Assert.True(before > 7, $"another process already holds {CpuLatencyRequest.DevicePath} at {before} µs; cannot observe ours");
        using (CpuLatencyRequest.Hold(7))
            Assert.Equal(7, CpuLatencyRequest.ReadCurrent());
        Assert.Equal(before, CpuLatencyRequest.ReadCurrent());
    }
}
