using System.Globalization;
using System.Runtime.InteropServices;
using Firewall.Core.Rules;
using Firewall.Daemon.DataPaths;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Health;
using Firewall.Daemon.Options;
using Firewall.Daemon.Reload;
using Firewall.Native.Systemd;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.Systemd;

/// <summary>
/// Type=notify for systemd: READY=1 once the data path is open (not before), STATUS= with live figures every few
/// seconds, WATCHDOG=1 only while the packet path is healthy (<see cref="DataPathHealth"/>: every reader made
/// progress or woke up recently), RELOADING=1 / READY=1 around a reload, STOPPING=1 at shutdown. SIGHUP reloads;
/// SIGTERM stops the host (the host's console lifetime handles it). Without $NOTIFY_SOCKET the notifications are no-ops.
/// </summary>
public sealed partial class SystemdIntegration : BackgroundService
{
    private readonly SystemdNotifier _notifier;
    private readonly DataPathService _dataPath;
    private readonly DataPathHealth _health;
    private readonly FirewallEngine _engine;
    private readonly ConfigReloader _reloader;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<SystemdIntegration> _log;
    private readonly DataPathOptions _dataPathOptions;
    private PosixSignalRegistration? _hup;
    private volatile bool _ready;
    private bool _watchdogWithheld;

    public SystemdIntegration(SystemdNotifier notifier, DataPathService dataPath, DataPathHealth health, FirewallEngine engine,
                              ConfigReloader reloader, IHostApplicationLifetime lifetime, IOptions<DataPathOptions> dataPathOptions,
                              ILogger<SystemdIntegration> log)
    {
        _dataPathOptions = dataPathOptions.Value;
        _notifier = notifier;
        _dataPath = dataPath;
        _health = health;
        _engine = engine;
        _reloader = reloader;
        _lifetime = lifetime;
        _log = log;
    }

    /// <summary>How often STATUS= is refreshed.</summary>
    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(5);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true; // SIGHUP must not end the process
            _ = Task.Run(() => _reloader.Reload("signal"));
        });
        _reloader.Reloading += OnReloading;
        _lifetime.ApplicationStopping.Register(() =>
        {
            _notifier.Stopping();
            LogStopping();
        });
        return base.StartAsync(cancellationToken);
    }

    private void OnReloading(bool starting)
    {
        if (starting) _notifier.Reloading();
        else if (_ready) _notifier.Ready(StatusLine());
    }

    /// <summary>One line of live figures for STATUS= (systemctl status shows it).</summary>
    public string StatusLine()
    {
        var t = _engine.Table;
        var tr = _engine.Traffic;
        string health = _health.IsHealthy(out var problem) ? "" : $"; UNHEALTHY: {problem}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{_dataPath.Current?.Name ?? "no data path"}: {t.Count} connections (max {t.Settings.Max}), {_engine.Rules.Current.Rules.Count} rules, packets accepted {tr.Packets(Verdict.Accept)} dropped {tr.Packets(Verdict.Drop) + tr.Packets(Verdict.Reject)}{health}");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try { await _dataPath.Ready.Task.WaitAsync(stoppingToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { return; }
        _ready = true;
        var o = _dataPathOptions;
        string interfaces = o.Mode switch
        {
            DataPathMode.Bridge => string.Join(",", o.Bridge.Interfaces),
            DataPathMode.Monitor => o.Monitor.Interface,
            DataPathMode.Tun => o.Tun.Name,
            DataPathMode.Nfqueue => "queues " + string.Join(",", o.Nfqueue.Queues),
            _ => o.Replay.Capture,
        };
        LogStarted(_dataPath.Current?.Name ?? o.Mode.ToString(), interfaces, _engine.Rules.Current.Rules.Count, _engine.Table.Settings.Max,
                   _engine.Table.Count, typeof(SystemdIntegration).Assembly.GetName().Version?.ToString() ?? "", Environment.ProcessId);
        bool sent = _notifier.Ready(StatusLine());
        LogReady(_notifier.IsEnabled, sent, _notifier.WatchdogInterval?.TotalSeconds ?? 0);

        // ping at half the watchdog interval (at most every second); refresh STATUS= every StatusInterval
        TimeSpan tick = _notifier.WatchdogInterval is TimeSpan w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks / 2, TimeSpan.TicksPerMillisecond * 100, StatusInterval.Ticks)) : StatusInterval;
        using var timer = new PeriodicTimer(tick);
        DateTime nextStatus = DateTime.UtcNow + StatusInterval;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_notifier.WatchdogInterval is not null) FeedWatchdog();
                if (DateTime.UtcNow >= nextStatus)
                {
                    _notifier.Status(StatusLine());
                    nextStatus = DateTime.UtcNow + StatusInterval;
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void FeedWatchdog()
    {
        if (_health.IsHealthy(out var problem))
        {
            _notifier.Watchdog();
            if (_watchdogWithheld) { _watchdogWithheld = false; LogWatchdogResumed(); }
        }
        else if (!_watchdogWithheld)
        {
            _watchdogWithheld = true;
            LogWatchdogWithheld(problem ?? "unknown");
        }
    }

    public override void Dispose()
    {
        _hup?.Dispose();
        _reloader.Reloading -= OnReloading;
        base.Dispose();
    }

    [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "DaemonStarted {DataPath} on {Interfaces}: {Rules} rules, table max {TableMax}, {Entries} entries, version {Version}, pid {Pid}")]
    private partial void LogStarted(string dataPath, string interfaces, int rules, int tableMax, int entries, string version, int pid);

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "SystemdReady {NotifySocket} {Sent} {WatchdogSeconds}")]
    private partial void LogReady(bool notifySocket, bool sent, double watchdogSeconds);

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "WatchdogWithheld {Problem}: the packet path is not making progress")]
    private partial void LogWatchdogWithheld(string problem);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "WatchdogResumed")]
    private partial void LogWatchdogResumed();

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "Stopping")]
    private partial void LogStopping();
}
