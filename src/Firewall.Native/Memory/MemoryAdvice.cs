using System.Runtime.InteropServices;

namespace Firewall.Native.Memory;

/// <summary>
/// Asks the kernel to back a large, not yet touched memory range with transparent huge pages (madvise MADV_HUGEPAGE).
/// The conntrack table's arrays are read at random: with 4 KiB pages nearly every lookup also misses the TLB.
/// Effective when THP is "madvise" or "always" (/sys/kernel/mm/transparent_hugepage/enabled); harmless otherwise.
/// </summary>
public static class MemoryAdvice
{
    private const long HugePage = 2 * 1024 * 1024;

    /// <summary>Advises the 2 MiB-aligned part of [address, address+length). Returns false (with errno) when the kernel refused.</summary>
    public static unsafe bool UseHugePages(nint address, nuint length)
    {
        long start = ((long)address + HugePage - 1) & ~(HugePage - 1);
        long end = ((long)address + (long)length) & ~(HugePage - 1);
        if (end <= start) return true;
        return Interop.Libc.Madvise((void*)start, (nuint)(end - start), Interop.Libc.MADV_HUGEPAGE) == 0 || Marshal.GetLastPInvokeError() == 0;
    }
}
