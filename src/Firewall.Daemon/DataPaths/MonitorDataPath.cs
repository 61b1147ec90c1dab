using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Options;
using Firewall.Native;
using Firewall.Native.Pcap;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// Passive capture on one NIC: every packet runs the pipeline (conntrack and rules, with their counters), nothing is
/// enforced. Would-be verdicts are counted; every SummaryIntervalSeconds a summary line tells how many packets would
/// have been dropped or rejected, and at stop the rule listing with its counters is logged — the safe way to try a
/// ruleset on a production host first. Hook FORWARD: one reader sees both directions (a mirror port); hook INPUT:
/// two readers, incoming frames run INPUT, outgoing frames OUTPUT (locally generated: checksums not verified).
/// </summary>
public sealed partial class MonitorDataPath : SupervisedDataPath<MonitorReader>
{
    private readonly MonitorOptions _options;

    public MonitorDataPath(FirewallEngine engine, MonitorOptions options, ILogger log) : base(engine, log)
    {
        _options = options;
    }

    public override string Name => "monitor";

    public override void Open()
    {
        PcapDeviceOptions Options(PcapDirection direction) => new()
        {
            SnapLength = 65535,
            Promiscuous = _options.Hook == "FORWARD",
            ImmediateMode = true,
            BufferSize = _options.BufferSizeMb * 1024 * 1024,
            Direction = direction,
            NonBlocking = true,
        };
        string nic = _options.Interface;
        _readers = _options.Hook == "INPUT"
            ?
            [
                new MonitorReader(nic + "/in", nic, Options(PcapDirection.In), _engine.Pipeline.CreateWorker(), FilterHook.Input, true, _log),
                new MonitorReader(nic + "/out", nic, Options(PcapDirection.Out), _engine.Pipeline.CreateWorker(), FilterHook.Output, false, _log),
            ]
            : [new MonitorReader(nic, nic, Options(PcapDirection.InOut), _engine.Pipeline.CreateWorker(), FilterHook.Forward, true, _log)];
        try
        {
            foreach (var r in _readers) r.OpenAtStart();
        }
        catch (Exception e) when (e is PcapException or NativeException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{DataPathOptions.SectionPath}:Monitor:Interface: {e.Message}", e);
        }
    }

    public override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var registration = stoppingToken.Register(_stop.Set);
        Task run = _supervisor.Start(_readers);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.SummaryIntervalSeconds));
        long lastPackets = 0, lastDrop = 0, lastReject = 0;
        while (!run.IsCompleted)
        {
            try
            {
                if (!await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) break;
            }
            catch (OperationCanceledException) { break; }
            long packets = _readers.Sum(r => Interlocked.Read(ref r.Packets));
            long drop = _readers.Sum(r => Interlocked.Read(ref r.WouldDrop));
            long reject = _readers.Sum(r => Interlocked.Read(ref r.WouldReject));
            if (drop > lastDrop || reject > lastReject)
                LogWouldDrop(drop - lastDrop, reject - lastReject, packets - lastPackets, _options.SummaryIntervalSeconds, drop, reject, packets);
            (lastPackets, lastDrop, lastReject) = (packets, drop, reject);
        }
        _stop.Set();
        await run.ConfigureAwait(false);
        var rules = _engine.Rules.Current;
        LogRuleCounters("IPv4", rules.ListVerbose(4));
        LogRuleCounters("IPv6", rules.ListVerbose(6));
    }

    [LoggerMessage(EventId = 170, Level = LogLevel.Warning,
        Message = "MonitorWouldDrop {WouldDrop} packets would have been dropped and {WouldReject} rejected of {Packets} in the last {Seconds} s (totals: {TotalDrop} dropped, {TotalReject} rejected of {TotalPackets}); nothing was enforced")]
    private partial void LogWouldDrop(long wouldDrop, long wouldReject, long packets, int seconds, long totalDrop, long totalReject, long totalPackets);

    [LoggerMessage(EventId = 171, Level = LogLevel.Information, Message = "MonitorRuleCounters {Family}\n{Listing}")]
    private partial void LogRuleCounters(string family, string listing);
}

/// <summary>Classifies what one capture handle sees and counts the would-be verdicts.</summary>
public sealed class MonitorReader : PcapPortReader
{
    private readonly string _name;
    private readonly FilterHook _hook;
    private readonly bool _received;
    private readonly string? _in, _out;

    public MonitorReader(string name, string nic, PcapDeviceOptions options, PipelineWorker worker, FilterHook hook, bool received, ILogger log)
        : base(nic, options, worker, log)
    {
        _name = name;
        _hook = hook;
        _received = received;
        _in = hook == FilterHook.Output ? null : nic;
        _out = hook == FilterHook.Output ? nic : null;
    }

    public override string Name => _name;

    public long Packets, Accepted, WouldDrop, WouldReject, NonIp;

    public override string Describe() =>
        $"{_name}: packets={Interlocked.Read(ref Packets)} accepted={Interlocked.Read(ref Accepted)} would_drop={Interlocked.Read(ref WouldDrop)} " +
        $"would_reject={Interlocked.Read(ref WouldReject)} non_ip={Interlocked.Read(ref NonIp)} truncated={Interlocked.Read(ref Truncated)} " + DescribePcap();

    public override void OnFrame(in PcapFrame frame)
    {
        ReadOnlySpan<byte> data = frame.Data;
        if (data.Length < frame.OriginalLength)
        {
            Truncated++;
            return;
        }
        FramesIn++;
        PacketParser.Parse(data, LinkType.Ethernet, out ParsedPacket p);
        if (p.Error == ParseError.NotIp)
        {
            NonIp++;
            return;
        }
        Packets++;
        var meta = new PacketMeta(_in, _out, p.IpVersion == 6);
        Verdict v = Worker.Process(ref p, BatchNowNs, _hook, in meta, _received, out PacketDecision d);
        Count(Worker, in d);
        if (v == Verdict.Accept) Accepted++;
        else if (v == Verdict.Reject) WouldReject++;
        else WouldDrop++;
    }
}
