using System.Globalization;
using Firewall.Core.Conntrack;
using Firewall.Core.Control;
using Firewall.Core.Conntrack.Expect;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Events;
using Firewall.Daemon.Reload;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.Control;

/// <summary>Something that adds "key: value" lines to <c>fwctl status</c>.</summary>
public interface IStatusSource
{
    IEnumerable<KeyValuePair<string, string>> Status();
}

/// <summary>Carries out control requests: the conntrack tool's listings and actions, rules, status, reload.</summary>
public sealed partial class ControlHandler
{
    private readonly FirewallEngine _engine;
    private readonly ConntrackEventHub _events;
    private readonly ConfigReloader _reloader;
    private readonly IEnumerable<IStatusSource> _status;
    private readonly ILogger<ControlHandler> _log;

    public ControlHandler(FirewallEngine engine, ConntrackEventHub events, ConfigReloader reloader, IEnumerable<IStatusSource> status,
                          ILogger<ControlHandler> log)
    {
        _engine = engine;
        _events = events;
        _reloader = reloader;
        _status = status;
        _log = log;
    }

    private static string Summary(string what) => $"{ControlProtocol.Banner}: {what}";

    /// <summary>Runs one request; returns the exit code for the client.</summary>
    public async Task<int> ExecuteAsync(ControlRequest request, IControlResponse r, CancellationToken ct)
    {
        var filter = request.Filter ?? new ConntrackFilter();
        var problems = filter.Validate();
        if (problems.Count > 0)
        {
            foreach (var p in problems) r.Err(p);
            return 2;
        }
        switch (request.Command)
        {
            case ControlCommands.ConntrackList: return List(request, filter, r);
            case ControlCommands.ExpectList: return ListExpectations(r);
            case ControlCommands.ConntrackStats: return Stats(r);
            case ControlCommands.ConntrackCount:
                r.Out(_engine.Table.Count.ToString(CultureInfo.InvariantCulture));
                return 0;
            case ControlCommands.ConntrackFlush:
            {
                int n = _engine.Table.Flush(_engine.NowNs());
                LogFlushed(n);
                r.Err(Summary("connection tracking table has been emptied."));
                return 0;
            }
            case ControlCommands.ConntrackDelete:
            {
                if (filter.IsEmpty) { r.Err("-D needs at least one filter (use -F to flush everything)"); return 2; }
                int n = _engine.Table.Delete(_engine.NowNs(), filter.Compile());
                LogDeleted(n);
                r.Err(Summary($"{n} flow entries have been deleted."));
                return 0;
            }
            case ControlCommands.ConntrackEvents: return await Events(filter, r, ct).ConfigureAwait(false);
            case ControlCommands.Rules: return Rules(request, r);
            case ControlCommands.Status: return Status(r);
            case ControlCommands.Reload:
            {
                var res = await Task.Run(() => _reloader.Reload("control"), ct).ConfigureAwait(false);
                if (res.Applied) { r.Out($"reloaded: {res.Rules} rules, {_engine.Table.Count} connections kept"); return 0; }
                foreach (var e in res.Errors) r.Err(e);
                r.Err("reload rejected; the running configuration stays");
                return 1;
            }
            default:
                r.Err($"unknown command \"{request.Command}\"");
                return 2;
        }
    }

    private int List(ControlRequest request, ConntrackFilter filter, IControlResponse r)
    {
        var match = filter.IsEmpty ? null : filter.Compile();
        var entries = _engine.Table.Snapshot(_engine.NowNs(), match);
        foreach (var s in entries)
        {
            string line = request.Format switch
            {
                "proc" => ConntrackFormatter.ProcLine(s),
                "extended" => (s.Orig.IsV6 ? "ipv6     10 " : "ipv4     2 ") + ConntrackFormatter.ListLine(s),
                _ => ConntrackFormatter.ListLine(s),
            };
            r.Out(line);
        }
        r.Err(Summary($"{entries.Count} flow entries have been shown."));
        return 0;
    }

    private int ListExpectations(IControlResponse r)
    {
        var list = _engine.Table.SnapshotExpectations(_engine.NowNs());
        foreach (var x in list) r.Out(ExpectationTable.FormatListLine(x));
        r.Err(Summary($"{list.Count} expectations have been shown."));
        return 0;
    }

    private int Stats(IControlResponse r)
    {
        var per = _engine.Table.ReadCountersPerWorker();
        for (int i = 0; i < per.Count; i++)
        {
            var c = per[i];
            r.Out(ConntrackFormatter.StatsLine(i, in c));
        }
        return 0;
    }

    private async Task<int> Events(ConntrackFilter filter, IControlResponse r, CancellationToken ct)
    {
        using var sub = _events.Subscribe(filter.IsEmpty ? null : filter.CompileForEvents());
        await r.FlushAsync(ct).ConfigureAwait(false);
        try
        {
            while (await sub.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (sub.Reader.TryRead(out var e)) r.Out(ConntrackFormatter.EventLine(in e));
                await r.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        if (sub.Lost > 0) r.Err(Summary($"{sub.Lost} events lost (listener too slow)."));
        return 0;
    }

    private int Rules(ControlRequest request, IControlResponse r)
    {
        byte family = request.Family == 6 ? (byte)6 : (byte)4;
        var set = _engine.Rules.Current;
        if (request.Save)
        {
            r.Out(set.ToIptablesSave(family, request.Counters).TrimEnd('\n'));
            return 0;
        }
        RuleTable table = request.Table?.ToLowerInvariant() switch
        {
            null or "filter" => RuleTable.Filter,
            "raw" => RuleTable.Raw,
            var t => (RuleTable)255,
        };
        if ((byte)table == 255) { r.Err($"table \"{request.Table}\" does not exist (filter, raw)"); return 2; }
        r.Out(set.ListVerbose(family, table).TrimEnd('\n'));
        return 0;
    }

    private int Status(IControlResponse r)
    {
        var t = _engine.Table;
        var uptime = DateTimeOffset.UtcNow - _engine.StartedAt;
        r.Out($"uptime: {(long)uptime.TotalSeconds}s (since {_engine.StartedAt:yyyy-MM-ddTHH:mm:ssZ})");
        r.Out($"conntrack: {t.Count} entries (max {t.Settings.Max}), {t.Expectations.Count} expectations, events {(t.EventsEnabled ? "on" : "off")}");
        var set = _engine.Rules.Current;
        r.Out($"rules: {set.Rules.Count} rules in {set.Chains.Count} chains");
        var last = _reloader.Last;
        r.Out($"last reload: {(last is null ? "none" : $"{last.At:yyyy-MM-ddTHH:mm:ssZ} ({last.Trigger}) {last.Summary}")}");
        r.Out($"packets: accepted {_engine.Traffic.Packets(Verdict.Accept)}, dropped {_engine.Traffic.Packets(Verdict.Drop)}, rejected {_engine.Traffic.Packets(Verdict.Reject)}");
        foreach (var source in _status)
            foreach (var kv in source.Status()) r.Out($"{kv.Key}: {kv.Value}");
        r.Out($"memory: {Environment.WorkingSet / (1024 * 1024)} MB resident, GC heap {GC.GetTotalMemory(false) / (1024 * 1024)} MB, " +
              $"collections gen0 {GC.CollectionCount(0)} gen1 {GC.CollectionCount(1)} gen2 {GC.CollectionCount(2)}, " +
              $"pause {GC.GetTotalPauseDuration().TotalMilliseconds:F1} ms in all");
        return 0;
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "ConntrackFlushed {Entries}")]
    private partial void LogFlushed(int entries);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "ConntrackDeleted {Entries}")]
    private partial void LogDeleted(int entries);
}
