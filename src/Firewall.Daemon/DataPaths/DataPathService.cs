using Firewall.Core.Conntrack;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Control;
using Firewall.Daemon.Health;
using Firewall.Daemon.Options;
using Firewall.Native;
using Firewall.Native.Power;
using Firewall.Native.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.DataPaths;

/// <summary>Opens the configured data path at start (start-up fails if it cannot be opened) and runs it until shutdown.</summary>
public sealed partial class DataPathService : IHostedService, IAsyncDisposable, IStatusSource
{
    private readonly IServiceProvider _services;
    private readonly IEnumerable<IDataPathFactory> _factories;
    private readonly DataPathOptions _options;
    private readonly DataPathHealth _health;
    private readonly ILogger<DataPathService> _log;
    private readonly CancellationTokenSource _stop = new();
    private IDataPath? _path;
    private Task? _run;
    private CpuLatencyRequest? _cpuLatency;

    public DataPathService(IServiceProvider services, IEnumerable<IDataPathFactory> factories, IOptions<DataPathOptions> options,
                           DataPathHealth health, ILogger<DataPathService> log)
    {
        _services = services;
        _factories = factories;
        _options = options.Value;
        _health = health;
        _log = log;
    }

    /// <summary>The running data path (null before start).</summary>
    public IDataPath? Current => _path;

    /// <summary>Completes when the data path is open (READY point for systemd).</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = _factories.FirstOrDefault(f => f.Mode == _options.Mode)
            ?? throw new InvalidOperationException($"{DataPathOptions.SectionPath}:Mode: the {_options.Mode} data path is not available in this build.");
        _path = factory.Create(_services);
        if (_options.ReaderCpus is { Count: > 0 } cpus && _options.Mode != DataPathMode.Replay)
        {
            IReadOnlyList<int> allowed = CpuAffinity.Allowed();
            foreach (int cpu in cpus)
                if (!allowed.Contains(cpu))
                    throw new InvalidOperationException($"{DataPathOptions.SectionPath}:ReaderCpus: CPU {cpu} is not one this process may run on ({string.Join(",", allowed)}).");
            _path.ReaderCpus = cpus;
        }
        if (_options.CpuDmaLatencyUs is int latency && _options.Mode != DataPathMode.Replay)
        {
            try { _cpuLatency = CpuLatencyRequest.Hold(latency); }
            catch (NativeException e) { throw new InvalidOperationException($"{DataPathOptions.SectionPath}:CpuDmaLatencyUs: {e.Message}", e); }
            LogCpuLatency(latency, CpuLatencyRequest.ReadCurrent());
        }
        _path.Open();
        LogOpened(_path.Name, _path.Describe());
        Ready.TrySetResult();
        _run = Task.Run(() => _path.RunAsync(_stop.Token));
        if (_options.StatsIntervalSeconds > 0) _ = LogStatsAsync(_path, TimeSpan.FromSeconds(_options.StatsIntervalSeconds), _stop.Token);
        _ = _run.ContinueWith(t =>
        {
            // a data path that gives up stops the watchdog: systemd restarts the service
            string why = t.Exception?.GetBaseException().Message ?? "cancelled";
            _health.ReportFailure($"data path {_path.Name} ended: {why}");
            LogFailed(_path.Name, why);
        }, CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    private async Task LogStatsAsync(IDataPath path, TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) LogStats(path.Name, path.Describe());
        }
        catch (OperationCanceledException) { }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        if (_run is not null)
        {
            try { await _run.WaitAsync(cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        if (_path is not null) LogStopped(_path.Name, _path.Describe());
        if (_options.LogConntrackAtStop) LogConntrackTable();
    }

    private void LogConntrackTable()
    {
        var engine = _services.GetRequiredService<FirewallEngine>();
        var entries = engine.Table.Snapshot(FirewallEngine.MonotonicNs());
        LogTable(entries.Count);
        foreach (var e in entries) LogEntry(ConntrackFormatter.ListLine(e));
    }

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "ConntrackTable {Entries} entries")]
    private partial void LogTable(int entries);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "ConntrackEntry {Entry}")]
    private partial void LogEntry(string entry);

    public IEnumerable<KeyValuePair<string, string>> Status()
    {
        if (_path is null) { yield return new("data path", "not open"); yield break; }
        yield return new("data path", $"{_path.Name} {_path.Describe()}");
        bool ok = _health.IsHealthy(out var problem);
        yield return new("packet path", ok ? $"healthy ({_health.Readers} readers)" : $"UNHEALTHY: {problem}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_path is not null) await _path.DisposeAsync().ConfigureAwait(false);
        _cpuLatency?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "DataPathOpened {DataPath} {Details}")]
    private partial void LogOpened(string dataPath, string details);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "DataPathStats {DataPath} {Details}")]
    private partial void LogStats(string dataPath, string details);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "DataPathStopped {DataPath} {Details}")]
    private partial void LogStopped(string dataPath, string details);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "CpuLatencyHeld {Microseconds} µs requested on /dev/cpu_dma_latency while running (kernel limit now {Current} µs)")]
    private partial void LogCpuLatency(int microseconds, int current);

    [LoggerMessage(EventId = 105, Level = LogLevel.Critical, Message = "DataPathFailed {DataPath} {Problem}")]
    private partial void LogFailed(string dataPath, string problem);
}
