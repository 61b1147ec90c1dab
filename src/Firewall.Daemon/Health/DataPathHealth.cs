namespace Firewall.Daemon.Health;

/// <summary>
/// Liveness of the packet path, for the systemd watchdog. Each reader thread registers a <see cref="Heartbeat"/> and
/// beats it on every turn of its loop — after a batch of packets and after every idle wake-up (readers wait with a
/// timeout and call Maintain, so an idle but healthy reader still beats). The watchdog is fed only while every
/// registered reader beat within <see cref="StallAfter"/> and no reader has failed; a stuck or dead reader stops it.
/// </summary>
public sealed class DataPathHealth
{
    private readonly Lock _gate = new();
    private readonly List<Heartbeat> _beats = [];
    private string? _failure;

    public DataPathHealth(TimeSpan? stallAfter = null) { StallAfter = stallAfter ?? TimeSpan.FromSeconds(5); }

    /// <summary>How long a reader may go without a beat before the packet path counts as stuck.</summary>
    public TimeSpan StallAfter { get; }

    /// <summary>Registers a reader; dispose the heartbeat when the reader ends normally.</summary>
    public Heartbeat Register(string name)
    {
        var h = new Heartbeat(this, name);
        lock (_gate) _beats.Add(h);
        return h;
    }

    /// <summary>Marks the packet path failed (a reader died and will not be restarted): the watchdog stops.</summary>
    public void ReportFailure(string reason) { lock (_gate) _failure = reason; }

    /// <summary>Clears a failure after a recovery.</summary>
    public void ClearFailure() { lock (_gate) _failure = null; }

    internal void Unregister(Heartbeat h) { lock (_gate) _beats.Remove(h); }

    public int Readers { get { lock (_gate) return _beats.Count; } }

    /// <summary>True when no reader failed and every registered reader beat recently; <paramref name="problem"/> says why not.</summary>
    public bool IsHealthy(out string? problem) => IsHealthy(Environment.TickCount64, out problem);

    public bool IsHealthy(long nowMs, out string? problem)
    {
        lock (_gate)
        {
            if (_failure is not null) { problem = _failure; return false; }
            foreach (var h in _beats)
            {
                long age = nowMs - h.LastBeatMs;
                if (age > (long)StallAfter.TotalMilliseconds) { problem = $"reader {h.Name} silent for {age} ms"; return false; }
            }
        }
        problem = null;
        return true;
    }
}

/// <summary>One reader's progress mark. <see cref="Beat"/> is one volatile store: call it freely from the packet loop.</summary>
public sealed class Heartbeat : IDisposable
{
    private readonly DataPathHealth _owner;
    private long _last;

    internal Heartbeat(DataPathHealth owner, string name)
    {
        _owner = owner;
        Name = name;
        _last = Environment.TickCount64;
    }

    public string Name { get; }
    public long LastBeatMs => Volatile.Read(ref _last);

    public void Beat() => Volatile.Write(ref _last, Environment.TickCount64);

    public void Dispose() => _owner.Unregister(this);
}
