using System.Net;
using System.Net.Sockets;
using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.Metrics;

/// <summary>
/// Serves <c>GET /metrics</c> (Prometheus text format) over plain HTTP/1.1 on the configured address; every other
/// request gets 404. Registers the engine's metric families: table size and limit, entries per state, packets per
/// verdict, drops and INVALID by reason, early drops, per-rule hits.
/// </summary>
public sealed partial class MetricsServer : BackgroundService
{
    private readonly MetricsOptions _options;
    private readonly MetricsRegistry _registry;
    private readonly ILogger<MetricsServer> _log;
    private TcpListener? _listener;

    public MetricsServer(IOptions<MetricsOptions> options, MetricsRegistry registry, FirewallEngine engine, ILogger<MetricsServer> log)
    {
        _options = options.Value;
        _registry = registry;
        _log = log;
        RegisterEngine(registry, engine);
    }

    /// <summary>The bound endpoint (port 0 in config picks a free one; tests read it here).</summary>
    public IPEndPoint? LocalEndPoint => _listener?.LocalEndpoint as IPEndPoint;

    public static void RegisterEngine(MetricsRegistry r, FirewallEngine engine)
    {
        var t = engine.Table;
        r.Register("firewall_conntrack_entries", "gauge", "Entries in the connection table", () => t.Count);
        r.Register("firewall_conntrack_max", "gauge", "Table limit (Firewall:Conntrack:Max)", () => t.Settings.Max);
        r.Register("firewall_conntrack_expectations", "gauge", "Live expectations", () => t.Expectations.Count);
        r.Register("firewall_conntrack_entries_by_state", "gauge", "Entries by protocol and protocol state", () => ByState(engine));
        r.Register("firewall_packets_total", "counter", "Packets decided, by verdict", () =>
            [new(engine.Traffic.Packets(Verdict.Accept), ("verdict", "accept")), new(engine.Traffic.Packets(Verdict.Drop), ("verdict", "drop")),
             new(engine.Traffic.Packets(Verdict.Reject), ("verdict", "reject"))]);
        r.Register("firewall_dropped_invalid_total", "counter", "Packets dropped while INVALID, by reason", () =>
        {
            var list = new List<MetricSample>();
            for (int i = 1; i < InvalidReasons.Count; i++)
            {
                long n = engine.Traffic.DroppedInvalid((InvalidReason)i);
                if (n > 0) list.Add(new(n, ("reason", InvalidReasons.Name((InvalidReason)i))));
            }
            return list;
        });
        r.Register("firewall_conntrack_invalid_total", "counter", "Packets conntrack classified INVALID, by reason", () =>
        {
            Span<long> by = stackalloc long[InvalidReasons.Count];
            t.ReadInvalidByReason(by);
            var list = new List<MetricSample>();
            for (int i = 1; i < by.Length; i++) if (by[i] > 0) list.Add(new(by[i], ("reason", InvalidReasons.Name((InvalidReason)i))));
            return list;
        });
        r.Register("firewall_conntrack_early_drops_total", "counter", "Entries evicted because the table was full", () => t.ReadCounters().EarlyDrop);
        r.Register("firewall_conntrack_drops_total", "counter", "Packets conntrack dropped (table full, insert failed)", () => t.ReadCounters().Drop);
        r.Register("firewall_rule_packets_total", "counter", "Packets that matched each rule", () => RuleSamples(engine, bytes: false));
        r.Register("firewall_rule_bytes_total", "counter", "Bytes that matched each rule", () => RuleSamples(engine, bytes: true));
        r.Register("firewall_rule_log_suppressed_total", "counter", "Rule LOG records suppressed (rate limit or full ring)", () => engine.LogRing.DroppedRate + engine.LogRing.DroppedFull);
    }

    private static IEnumerable<MetricSample> ByState(FirewallEngine engine)
    {
        var counts = new Dictionary<(byte, byte), int>();
        engine.Table.Snapshot(engine.NowNs(), s =>
        {
            var key = (s.Proto, s.State);
            counts[key] = counts.TryGetValue(key, out int n) ? n + 1 : 1;
            return false; // count only: nothing is copied into the result
        });
        foreach (var ((proto, state), n) in counts)
            yield return new(n, ("proto", Firewall.Core.Packets.IpProto.ConntrackName(proto)), ("state", ConntrackFormatter.ProtoStateName(proto, state) ?? "NONE"));
    }

    private static IEnumerable<MetricSample> RuleSamples(FirewallEngine engine, bool bytes)
    {
        var set = engine.Rules.Current;
        foreach (var chain in set.Chains)
            for (int i = 0; i < chain.RuleList.Count; i++)
            {
                var rule = chain.RuleList[i];
                var (p, b) = set.RuleCounters(rule.Id);
                yield return new(bytes ? b : p, ("table", chain.Table.ToString().ToLowerInvariant()), ("chain", chain.Name),
                                 ("rule", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            _listener = new TcpListener(IPAddress.Parse(_options.Address), _options.Port);
            _listener.Start();
            LogListening(_listener.LocalEndpoint.ToString() ?? "");
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is null) return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(stoppingToken).ConfigureAwait(false);
                _ = Task.Run(() => ServeAsync(client, stoppingToken), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) { }
        finally { _listener.Stop(); }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken ct)
    {
        using var _ = client;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true);
            string? requestLine = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false))) { } // headers
            string[] parts = requestLine?.Split(' ') ?? [];
            bool ok = parts.Length >= 2 && parts[0] == "GET" && (parts[1] == "/metrics" || parts[1].StartsWith("/metrics?", StringComparison.Ordinal));
            string body = ok ? _registry.Render() : "not found: GET /metrics\n";
            byte[] payload = Encoding.UTF8.GetBytes(body);
            string head = ok
                ? $"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n"
                : $"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token).ConfigureAwait(false);
            await stream.WriteAsync(payload, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "MetricsListening {Endpoint}")]
    private partial void LogListening(string endpoint);
}
