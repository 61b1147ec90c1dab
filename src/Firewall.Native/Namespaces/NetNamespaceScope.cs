namespace Firewall.Native.Namespaces;

/// <summary>The calling thread is inside <see cref="Name"/> until Dispose, which restores the previous namespace.</summary>
public sealed class NetNamespaceScope : IDisposable
{
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private int _originalFd;

    internal NetNamespaceScope(string name, int originalFd)
    {
        Name = name;
        _originalFd = originalFd;
    }

    public string Name { get; }

    /// <summary>Restores the namespace the thread was in before Enter. Must run on the entering thread.</summary>
    public void Dispose()
    {
        if (_originalFd < 0) return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException(
                $"network namespace scope '{Name}' disposed on thread {Environment.CurrentManagedThreadId}, entered on {_threadId}");
        int fd = _originalFd;
        _originalFd = -1;
        try
        {
            // A thread left in the wrong namespace would silently misroute everything it touches later: fail loudly.
            if (Interop.Namespaces.SetNs(fd, Interop.Namespaces.CLONE_NEWNET) != 0)
                NativeException.ThrowLast($"setns back from {Name}");
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }
}
