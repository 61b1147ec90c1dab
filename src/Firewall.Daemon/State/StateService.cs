using Firewall.Daemon.Control;
using Firewall.Daemon.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.State;

/// <summary>
/// Connection state across restarts: restores the saved table before the data path opens (start-up order), saves it
/// every <see cref="StateOptions.SaveIntervalSeconds"/> and once more at stop, after the data path stopped. Also advances
/// the timers of the restored entries (the control context) once a second.
/// </summary>
public sealed partial class StateService : BackgroundService, IStatusSource
{
    private readonly FirewallEngine _engine;
    private readonly StateOptions _options;
    private readonly ILogger<StateService> _log;
    private readonly byte[] _host = StateFile.HostIdentity();
    private readonly Lock _saveGate = new();
    private DateTimeOffset? _lastSave;
    private int _lastSaveEntries;
    private string? _restored;

    public StateService(FirewallEngine engine, IOptions<StateOptions> options, ILogger<StateService> log)
    {
        _engine = engine;
        _options = options.Value;
        _log = log;
    }

    public string FilePath => Path.Combine(_options.Directory, StateFile.FileName);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled) Restore();
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Restores the saved table if there is a trustworthy one. Never throws: a bad file is reported and ignored.</summary>
    public void Restore()
    {
        string path = FilePath;
        if (!File.Exists(path)) { LogNoSnapshot(path); return; }
        byte[] image;
        try { image = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { LogSnapshotIgnored(path, e.Message); return; }
        var parsed = StateFile.TryParse(image, _host, out var problem);
        if (parsed is null) { LogSnapshotIgnored(path, problem!); QuarantineBadFile(path); return; }
        var age = DateTimeOffset.UtcNow - parsed.SavedAt;
        if (age > TimeSpan.FromSeconds(_options.MaxAgeSeconds)) { LogSnapshotIgnored(path, $"saved {(long)age.TotalSeconds} s ago, older than MaxAgeSeconds {_options.MaxAgeSeconds}"); return; }
        uint elapsed = age <= TimeSpan.Zero ? 0 : (uint)Math.Min(age.TotalMilliseconds, uint.MaxValue);
        var r = _engine.Table.Import(_engine.NowNs(), parsed.EntryRecords.Span, parsed.ExpectationRecords.Span, elapsed);
        _restored = $"{r.Entries} connections, {r.Expectations} expectations from {parsed.SavedAt:yyyy-MM-ddTHH:mm:ssZ}";
        LogRestored(path, r.Entries, r.Expectations, r.EntriesSkipped, r.EntriesTableFull, r.ExpectationsSkipped, (long)age.TotalMilliseconds);
    }

    /// <summary>A rejected file is kept aside for inspection (and not read again).</summary>
    private void QuarantineBadFile(string path)
    {
        try { File.Move(path, path + ".rejected", overwrite: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Saves now; returns false (logged) when it could not.</summary>
    public bool Save(string reason)
    {
        lock (_saveGate)
        {
            try
            {
                Directory.CreateDirectory(_options.Directory);
                var started = DateTime.UtcNow;
                var (n, x) = StateFile.Save(FilePath, _engine.Table, _engine.NowNs(), _host, DateTimeOffset.UtcNow);
                _lastSave = DateTimeOffset.UtcNow;
                _lastSaveEntries = n;
                LogSaved(reason == "interval" ? LogLevel.Debug : LogLevel.Information, FilePath, reason, n, x, (long)(DateTime.UtcNow - started).TotalMilliseconds);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogSaveFailed(FilePath, reason, e.Message);
                return false;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long seconds = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                _engine.Table.MaintainControl(_engine.NowNs());
                seconds++;
                if (_options.Enabled && _options.SaveIntervalSeconds > 0 && seconds % _options.SaveIntervalSeconds == 0)
                    await Task.Run(() => Save("interval"), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_options.Enabled) Save("stop");
    }

    public IEnumerable<KeyValuePair<string, string>> Status()
    {
        if (!_options.Enabled) { yield return new("state", "saving disabled"); yield break; }
        yield return new("state restored", _restored ?? "nothing");
        yield return new("state saved", _lastSave is { } t ? $"{t:yyyy-MM-ddTHH:mm:ssZ}, {_lastSaveEntries} connections, to {FilePath}" : $"not yet (every {_options.SaveIntervalSeconds} s and at stop, to {FilePath})");
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "StateRestored {Path} {Entries} entries, {Expectations} expectations ({Skipped} skipped, {TableFull} left out: table full, {ExpectationsSkipped} expectations skipped), saved {AgeMs} ms ago")]
    private partial void LogRestored(string path, int entries, int expectations, int skipped, int tableFull, int expectationsSkipped, long ageMs);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "StateSnapshotIgnored {Path}: {Problem}")]
    private partial void LogSnapshotIgnored(string path, string problem);

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "StateNoSnapshot {Path}")]
    private partial void LogNoSnapshot(string path);

    [LoggerMessage(EventId = 503, Message = "StateSaved {Path} {Reason} {Entries} entries, {Expectations} expectations in {DurationMs} ms")]
    private partial void LogSaved(LogLevel level, string path, string reason, int entries, int expectations, long durationMs);

    [LoggerMessage(EventId = 504, Level = LogLevel.Error, Message = "StateSaveFailed {Path} {Reason}: {Problem}")]
    private partial void LogSaveFailed(string path, string reason, string problem);
}
