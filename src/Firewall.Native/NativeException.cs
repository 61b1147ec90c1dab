using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Firewall.Native;

/// <summary>A libc/kernel call failed; carries the errno and the operation that failed.</summary>
public sealed class NativeException : IOException
{
    public NativeException(string operation, int errno)
        : base($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Operation = operation;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>What was attempted, e.g. "NFQUEUE 3 BIND" or "open /dev/net/tun".</summary>
    public string Operation { get; }

    /// <summary>The errno reported by the kernel (positive).</summary>
    public int Errno { get; }

    /// <summary>Throws for the errno of the last P/Invoke made with SetLastError.</summary>
    [DoesNotReturn]
    internal static void ThrowLast(string operation) => throw new NativeException(operation, Marshal.GetLastPInvokeError());

    [DoesNotReturn]
    internal static void Throw(string operation, int errno) => throw new NativeException(operation, errno);
}
