using Firewall.Daemon.Engine;
using Firewall.Native;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// What every live data path shares: readers (one thread each) run and restarted by a <see cref="ReaderSupervisor"/>,
/// one stop event that wakes them all, status from the readers, and an orderly stop. Subclasses open their readers in
/// <see cref="Open"/> and put what must happen around the stop in <see cref="BeforeStop"/> / <see cref="AfterStop"/>.
/// </summary>
public abstract class SupervisedDataPath<TReader> : IDataPath where TReader : PacketReader
{
    protected readonly FirewallEngine _engine;
    protected readonly ILogger _log;
    protected readonly StopEvent _stop = new();
    protected readonly ReaderSupervisor _supervisor;
    protected TReader[] _readers = [];
    private int _disposed;

    protected SupervisedDataPath(FirewallEngine engine, ILogger log)
    {
        _engine = engine;
        _log = log;
        _supervisor = new ReaderSupervisor(log, _stop, engine.Health, engine.Traffic);
    }

    public abstract string Name { get; }

    public string Describe() => string.Join("; ", _readers.Select(r => r.Describe()));

    public abstract void Open();

    public IReadOnlyList<int> ReaderCpus
    {
        get => _supervisor.Cpus;
        set => _supervisor.Cpus = value;
    }

    /// <summary>Runs the readers until the host stops.</summary>
    public virtual async Task RunAsync(CancellationToken stoppingToken)
    {
        using var registration = stoppingToken.Register(_stop.Set);
        await _supervisor.Start(_readers).ConfigureAwait(false);
    }

    /// <summary>Before the readers are told to stop (they still answer packets).</summary>
    protected virtual void BeforeStop() { }

    /// <summary>After the readers have stopped (close devices, remove routes).</summary>
    protected virtual void AfterStop() { }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        BeforeStop();
        _stop.Set();
        _supervisor.Join(TimeSpan.FromSeconds(2));
        AfterStop();
        _stop.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
