using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.Logging;

/// <summary>
/// Every log event that traffic can drive, written off the packet path, rate-limited, with counts of what was
/// suppressed: rule LOG hits (drained from the rule set's ring), conntrack NEW/DESTROY (when enabled), table full and
/// early drops, INVALID packets aggregated by reason, data-path errors and recoveries, periodic statistics.
/// </summary>
public sealed partial class TrafficLogService : BackgroundService
{
    private readonly FirewallEngine _engine;
    private readonly ConntrackEventHub _hub;
    private readonly DataPathLog _dataPathLog;
    private readonly LoggingOptions _options;
    private readonly ILogger<TrafficLogService> _log;
    private readonly RateLimiter _ruleLimit;
    private readonly RateLimiter _ctLimit;
    private readonly Dictionary<string, (long WindowStart, int Count, long Suppressed)> _dpLimit = new(StringComparer.Ordinal);
    private readonly long[] _invalidPrev = new long[InvalidReasons.Count];
    private readonly long[] _invalidNow = new long[InvalidReasons.Count];
    private long _ruleRingRatePrev, _ruleRingFullPrev, _earlyDropPrev, _tableFullPrev, _eventsLostPrev;

    public TrafficLogService(FirewallEngine engine, ConntrackEventHub hub, DataPathLog dataPathLog, IOptions<LoggingOptions> options,
                             ILogger<TrafficLogService> log)
    {
        _engine = engine;
        _hub = hub;
        _dataPathLog = dataPathLog;
        _options = options.Value;
        _log = log;
        _ruleLimit = new RateLimiter(_options.RuleLogPerSecond);
        _ctLimit = new RateLimiter(_options.ConntrackEventsPerSecond);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.ConntrackEvents) _hub.SetLogSink(OnConntrackEvent);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        long ticks = 0;
        int suppressedEvery = _options.SuppressedReportSeconds * 4, invalidEvery = _options.InvalidIntervalSeconds * 4, statsEvery = _options.StatisticsIntervalSeconds * 4;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                ticks++;
                Pump();
                if (ticks % suppressedEvery == 0) ReportSuppressedAndTable();
                if (ticks % invalidEvery == 0) ReportInvalid();
                if (statsEvery > 0 && ticks % statsEvery == 0) ReportStatistics();
            }
        }
        catch (OperationCanceledException) { }
        Pump();
        ReportSuppressedAndTable();
        ReportInvalid();
    }

    /// <summary>Drains the rule log ring and the data-path queue once (tests call it directly).</summary>
    public void Pump()
    {
        var ring = _engine.LogRing;
        while (ring.TryRead(out var r))
        {
            if (!_ruleLimit.TryTake()) continue;
            LogRuleHit(r.Prefix ?? "", r.Table.ToString().ToLowerInvariant(), r.Chain, r.RuleId, r.InInterface ?? "", r.OutInterface ?? "",
                       IpProto.ConntrackName(r.Proto), r.Src.ToString(r.Family == 6), r.Dst.ToString(r.Family == 6), r.SrcPort, r.DstPort,
                       CtStateNames.Name(r.State), r.Length, r.Level);
        }
        while (_dataPathLog.Reader.TryRead(out var item))
        {
            string key = $"{item.DataPath}/{item.Reader}/{item.Kind}";
            long now = Environment.TickCount64;
            var (start, count, suppressed) = _dpLimit.TryGetValue(key, out var v) ? v : (now, 0, 0L);
            if (now - start >= 60_000)
            {
                if (suppressed > 0) LogSuppressed("DataPath" + item.Kind, suppressed);
                (start, count, suppressed) = (now, 0, 0);
            }
            if (count >= DataPathLog.PerKeyPerMinute) { _dpLimit[key] = (start, count, suppressed + 1); continue; }
            _dpLimit[key] = (start, count + 1, suppressed);
            switch (item.Kind)
            {
                case DataPathLog.Kind.Error: LogDataPathError(item.DataPath, item.Reader, item.Problem ?? ""); break;
                case DataPathLog.Kind.Recovered: LogDataPathRecovered(item.DataPath, item.Reader, item.Value); break;
                case DataPathLog.Kind.CaptureDrops: LogCaptureDrops(item.DataPath, item.Reader, item.Value); break;
            }
        }
        long lost = _dataPathLog.TakeLost();
        if (lost > 0) LogSuppressed("DataPathLogQueueFull", lost);
    }

    private void OnConntrackEvent(CtEvent e)
    {
        if (e.Type == CtEventType.Update) return;
        if (!_ctLimit.TryTake()) return;
        e.Orig.TryInvert(out var reply);
        bool v6 = e.Orig.IsV6;
        bool ports = e.Orig.Proto is IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp;
        string? state = ConntrackFormatter.ProtoStateName(e.Orig.Proto, e.Orig.Proto == IpProto.Tcp ? (byte)e.TcpState : e.ProtoState);
        if (e.Type == CtEventType.New)
            LogConntrackNew(IpProto.ConntrackName(e.Orig.Proto), e.Orig.Src.ToString(v6), e.Orig.Dst.ToString(v6), ports ? e.Orig.SrcId : 0, ports ? e.Orig.DstId : 0, state ?? "", e.Orig.Zone);
        else
            LogConntrackDestroy(IpProto.ConntrackName(e.Orig.Proto), e.Orig.Src.ToString(v6), e.Orig.Dst.ToString(v6), ports ? e.Orig.SrcId : 0, ports ? e.Orig.DstId : 0, state ?? "",
                                (e.Status & CtStatus.Assured) != 0, e.Orig.Zone);
    }

    private void ReportSuppressedAndTable()
    {
        long rule = _ruleLimit.TakeSuppressed();
        var ring = _engine.LogRing;
        long ringRate = ring.DroppedRate, ringFull = ring.DroppedFull;
        rule += ringRate - _ruleRingRatePrev + ringFull - _ruleRingFullPrev;
        _ruleRingRatePrev = ringRate;
        _ruleRingFullPrev = ringFull;
        if (rule > 0) LogSuppressed("RuleLogHit", rule);
        long ct = _ctLimit.TakeSuppressed();
        var c = _engine.Table.ReadCounters();
        ct += c.EventsLost - _eventsLostPrev;
        _eventsLostPrev = c.EventsLost;
        if (ct > 0 && _options.ConntrackEvents) LogSuppressed("ConntrackEvent", ct);

        _engine.Table.ReadInvalidByReason(_invalidNow);
        long full = _invalidNow[(int)InvalidReason.TableFull];
        long early = c.EarlyDrop;
        if (full > _tableFullPrev || early > _earlyDropPrev)
            LogTableFull(_engine.Table.Count, _engine.Table.Settings.Max, full - _tableFullPrev, early - _earlyDropPrev);
        _tableFullPrev = full;
        _earlyDropPrev = early;
    }

    private void ReportInvalid()
    {
        _engine.Table.ReadInvalidByReason(_invalidNow);
        Dictionary<string, long>? byReason = null;
        long total = 0;
        for (int i = 1; i < _invalidNow.Length; i++)
        {
            long d = _invalidNow[i] - _invalidPrev[i];
            _invalidPrev[i] = _invalidNow[i];
            if (d <= 0) continue;
            (byReason ??= new(StringComparer.Ordinal))[InvalidReasons.Name((InvalidReason)i)] = d;
            total += d;
        }
        if (byReason is not null) LogInvalid(total, _options.InvalidIntervalSeconds, byReason);
    }

    private void ReportStatistics()
    {
        var t = _engine.Table;
        var c = t.ReadCounters();
        var tr = _engine.Traffic;
        LogStatistics(t.Count, t.Settings.Max, t.Expectations.Count, tr.Packets(Verdict.Accept), tr.Packets(Verdict.Drop), tr.Packets(Verdict.Reject),
                      c.Invalid + c.Error, c.EarlyDrop, c.Drop, _engine.Rules.Current.Rules.Count);
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "RuleLogHit {LogPrefix} {Table} {Chain} rule {RuleId} in={InInterface} out={OutInterface} {Protocol} {Source}:{SourcePort} -> {Destination}:{DestinationPort} {State} len={Length} level={SyslogLevel}")]
    private partial void LogRuleHit(string logPrefix, string table, string chain, int ruleId, string inInterface, string outInterface, string protocol,
                                    string source, string destination, ushort sourcePort, ushort destinationPort, string state, int length, byte syslogLevel);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "ConntrackNew {Protocol} {Source}:{SourcePort} -> {Destination}:{DestinationPort} {ProtoState} zone={Zone}")]
    private partial void LogConntrackNew(string protocol, string source, string destination, int sourcePort, int destinationPort, string protoState, int zone);

    [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "ConntrackDestroy {Protocol} {Source}:{SourcePort} -> {Destination}:{DestinationPort} {ProtoState} assured={Assured} zone={Zone}")]
    private partial void LogConntrackDestroy(string protocol, string source, string destination, int sourcePort, int destinationPort, string protoState, bool assured, int zone);

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "ConntrackTableFull {Entries}/{Max}: {Dropped} packets dropped, {EarlyDropped} entries early-dropped")]
    private partial void LogTableFull(int entries, int max, long dropped, long earlyDropped);

    [LoggerMessage(EventId = 604, Level = LogLevel.Information, Message = "InvalidPackets {Total} in {IntervalSeconds} s {@ByReason}")]
    private partial void LogInvalid(long total, int intervalSeconds, Dictionary<string, long> byReason);

    [LoggerMessage(EventId = 605, Level = LogLevel.Warning, Message = "EventsSuppressed {SuppressedEvent} {Suppressed}")]
    private partial void LogSuppressed(string suppressedEvent, long suppressed);

    [LoggerMessage(EventId = 606, Level = LogLevel.Error, Message = "DataPathError {DataPath} {Reader}: {Problem}")]
    private partial void LogDataPathError(string dataPath, string reader, string problem);

    [LoggerMessage(EventId = 607, Level = LogLevel.Information, Message = "DataPathRecovered {DataPath} {Reader} after {DownMs} ms")]
    private partial void LogDataPathRecovered(string dataPath, string reader, long downMs);

    [LoggerMessage(EventId = 608, Level = LogLevel.Warning, Message = "CaptureDrops {DataPath} {Reader} {Dropped}")]
    private partial void LogCaptureDrops(string dataPath, string reader, long dropped);

    [LoggerMessage(EventId = 609, Level = LogLevel.Information, Message = "Statistics {Entries}/{Max} entries, {Expectations} expectations, accepted {Accepted} dropped {Dropped} rejected {Rejected}, invalid {Invalid}, early drops {EarlyDrops}, conntrack drops {ConntrackDrops}, {Rules} rules")]
    private partial void LogStatistics(int entries, int max, int expectations, long accepted, long dropped, long rejected, long invalid, long earlyDrops, long conntrackDrops, int rules);
}
