namespace Firewall.Daemon.DataPaths;

/// <summary>
/// The right to busy-poll, shared by a data path's readers (a bridge's two NICs, NFQUEUE's queues): only its holder
/// spins, so busy polling takes one CPU at most.
/// </summary>
public sealed class BusyPollToken
{
    private int _held;

    public BusyPollToken(TimeSpan window) => WindowNs = (long)(window.TotalMilliseconds * 1_000_000);

    /// <summary>How long to keep reading after the last frame; 0 = never spin.</summary>
    public long WindowNs { get; }

    public bool TryTake() => WindowNs > 0 && Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    public void Release() => Volatile.Write(ref _held, 0);
}
