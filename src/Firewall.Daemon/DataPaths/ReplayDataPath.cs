using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Health;
using Firewall.Daemon.Options;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>Offline data path: a capture file through the same pipeline, with capture timestamps as the clock.</summary>
public sealed partial class ReplayDataPath : IDataPath
{
    private readonly FirewallEngine _engine;
    private readonly ReplayDataPathOptions _options;
    private readonly DataPathHealth _health;
    private readonly ILogger _log;
    private PcapReader? _reader;
    private long _packets, _accepted, _dropped;
    private long _lastTimestampNs;

    public ReplayDataPath(FirewallEngine engine, ReplayDataPathOptions options, DataPathHealth health, ILogger log)
    {
        _engine = engine;
        _options = options;
        _health = health;
        _log = log;
    }

    public string Name => "replay";

    public string Describe() => $"capture={_options.Capture} packets={Interlocked.Read(ref _packets)} accepted={Interlocked.Read(ref _accepted)} dropped={Interlocked.Read(ref _dropped)}";

    public void Open()
    {
        try { _reader = PcapReader.Open(_options.Capture); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CaptureFormatException)
        {
            throw new InvalidOperationException($"{DataPathOptions.SectionPath}:Replay:Capture: {_options.Capture}: {e.Message}", e);
        }
        // capture time is mapped onto the engine clock (first packet = now): after a long capture replayed in an instant
        // the engine clock stands at the capture's last packet until real time catches up
        _engine.UseClock(() => Math.Max(FirewallEngine.MonotonicNs(), Interlocked.Read(ref _lastTimestampNs)));
    }

    public Task RunAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        var worker = _engine.Pipeline.CreateWorker();
        using var heartbeat = _health.Register("replay");
        long offset = long.MinValue;
        FilterHook hook = _options.Chain switch { "INPUT" => FilterHook.Input, "OUTPUT" => FilterHook.Output, _ => FilterHook.Forward };
        try
        {
            while (!stoppingToken.IsCancellationRequested && _reader!.TryRead(out CaptureRecord rec))
            {
                PacketParser.Parse(rec.Data, rec.LinkType, out ParsedPacket p);
                var meta = new PacketMeta(null, null, p.IpVersion == 6);
                if (offset == long.MinValue) offset = FirewallEngine.MonotonicNs() - rec.TimestampNs;
                long now = rec.TimestampNs + offset;
                Interlocked.Exchange(ref _lastTimestampNs, now);
                var v = worker.Process(ref p, now, hook, in meta, hook != FilterHook.Output, out var decision);
                _engine.Traffic.Record(worker.Conntrack.WorkerId, in decision);
                heartbeat.Beat();
                Interlocked.Increment(ref _packets);
                if (v == Verdict.Accept) Interlocked.Increment(ref _accepted); else Interlocked.Increment(ref _dropped);
            }
        }
        catch (CaptureFormatException e)
        {
            LogCaptureError(e.Message);
        }
        LogReplayDone(Interlocked.Read(ref _packets), Interlocked.Read(ref _accepted), Interlocked.Read(ref _dropped), _engine.Table.Count);
        // like a live reader with no traffic: wake on a timeout, advance the timers, show liveness
        while (!stoppingToken.IsCancellationRequested)
        {
            worker.Conntrack.Maintain(_engine.NowNs());
            heartbeat.Beat();
            stoppingToken.WaitHandle.WaitOne(200);
        }
    }, stoppingToken);

    public ValueTask DisposeAsync()
    {
        _reader?.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "ReplayCaptureError {Problem}")]
    private partial void LogCaptureError(string problem);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "ReplayDone {Packets} packets, {Accepted} accepted, {Dropped} dropped, {Entries} entries")]
    private partial void LogReplayDone(long packets, long accepted, long dropped, int entries);

}
