using System.Diagnostics;
using System.Globalization;
using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Options;
using Firewall.Native;
using Firewall.Native.Tun;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// A router whose forwarded traffic is policy-routed through our TUN device (README, "TUN data path"): the kernel
/// routes packets arriving on the listed interfaces into the TUN (table <c>RouteTable</c>: default dev TUN); the
/// daemon reads each packet, runs the FORWARD chain, and writes accepted packets back into the same TUN, where the
/// kernel sees them arrive on the TUN (matching no rule) and routes them on with the main table. REJECT answers are
/// written into the TUN too and routed back to the sender. Interface matches (-i/-o) do not apply: the TUN hides
/// the original interfaces; write rules with addresses.
/// </summary>
public sealed partial class TunDataPath : SupervisedDataPath<TunReader>
{
    private readonly TunOptions _options;
    private readonly List<string[]> _ipRules = [];

    public TunDataPath(FirewallEngine engine, TunOptions options, ILogger log) : base(engine, log)
    {
        _options = options;
    }

    public override string Name => "tun";

    public override void Open()
    {
        int queues = _options.MultiQueue ? Math.Clamp(Environment.ProcessorCount, 1, 4) : 1;
        var devices = new List<TunDevice>();
        try
        {
            for (int i = 0; i < queues; i++) devices.Add(TunDevice.Create(_options.Name, _options.MultiQueue, _stop));
            string name = devices[0].Name;
            RunIp("link", "set", "dev", name, "up");
            if (_options.ManageRoutes)
            {
                string table = _options.RouteTable.ToString(CultureInfo.InvariantCulture);
                RunIp("-4", "route", "replace", "default", "dev", name, "table", table);
                RunIp("-6", "route", "replace", "default", "dev", name, "table", table);
                foreach (var iif in _options.FromInterfaces)
                    foreach (var family in new[] { "-4", "-6" })
                    {
                        string[] rule = [family, "rule", "add", "iif", iif, "lookup", table];
                        RunIp(rule);
                        _ipRules.Add(rule);
                        LogRouteRule(string.Join(' ', rule));
                    }
            }
            _readers = devices.Select((d, i) => new TunReader(queues == 1 ? d.Name : $"{d.Name}/{i}", d, _engine.Pipeline.CreateWorker(), _log)).ToArray();
        }
        catch (Exception e) when (e is NativeException or InvalidOperationException)
        {
            RemoveRules();
            foreach (var d in devices) d.Dispose();
            throw new InvalidOperationException($"{DataPathOptions.SectionPath}:Tun: {e.Message}", e);
        }
    }

    private void RemoveRules()
    {
        foreach (var rule in _ipRules)
        {
            string[] del = [.. rule];
            del[2] = "del";
            try { RunIp(del); }
            catch (InvalidOperationException e) { LogRouteRuleRemoveFailed(e.Message); }
        }
        _ipRules.Clear();
    }

    protected override void AfterStop()
    {
        RemoveRules();
        foreach (var r in _readers) r.Device.Dispose(); // the device and its routes vanish with the last descriptor
    }

    private static void RunIp(params string[] args)
    {
        string ip = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("ip (iproute2) not found; it is needed to bring the TUN up and route through it");
        var psi = new ProcessStartInfo(ip) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start ip");
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)} failed: {err.Trim()}");
    }

    [LoggerMessage(EventId = 180, Level = LogLevel.Information, Message = "TunRouteRule ip {Rule}")]
    private partial void LogRouteRule(string rule);

    [LoggerMessage(EventId = 181, Level = LogLevel.Error, Message = "TunRouteRuleRemoveFailed {Problem}")]
    private partial void LogRouteRuleRemoveFailed(string problem);
}

/// <summary>Reads one TUN queue, classifies each packet (FORWARD) and writes the accepted ones back.</summary>
public sealed class TunReader : PacketReader
{
    private const int WaitMilliseconds = 250;
    private const long MaintainEveryNs = 10_000_000;

    private readonly string _name;
    private readonly PipelineWorker _worker;
    private readonly byte[] _buffer = new byte[65536];
    private readonly byte[] _answer = new byte[RejectBuilder.MaxAnswerLength];
    private long _lastMaintain;

    public TunReader(string name, TunDevice device, PipelineWorker worker, ILogger log)
    {
        _name = name;
        Device = device;
        _worker = worker;
    }

    public TunDevice Device { get; }

    public override string Name => _name;

    public long Packets, Accepted, Dropped, Rejected, RejectsSent, WriteErrors;

    public override string Describe() =>
        $"{_name}: packets={Interlocked.Read(ref Packets)} accepted={Interlocked.Read(ref Accepted)} dropped={Interlocked.Read(ref Dropped)} " +
        $"rejected={Interlocked.Read(ref Rejected)} rejects_sent={Interlocked.Read(ref RejectsSent)} write_errors={Interlocked.Read(ref WriteErrors)} " +
        $"restarts={Interlocked.Read(ref Restarts)} thread_alloc={Volatile.Read(ref ThreadAllocatedBytes)}";

    public override void Run(StopEvent stop)
    {
        while (true)
        {
            WaitResult r = Device.Read(_buffer, out int length, WaitMilliseconds);
            if (r == WaitResult.Stopped) return;
            if (r == WaitResult.Readable && length > 0) Handle(_buffer.AsSpan(0, length));
            long now = FirewallEngine.MonotonicNs();
            if (now - _lastMaintain >= MaintainEveryNs)
            {
                _lastMaintain = now;
                _worker.Conntrack.Maintain(now);
                SampleAllocations();
            }
        }
    }

    private void Handle(ReadOnlySpan<byte> packet)
    {
        Packets++;
        PacketParser.Parse(packet, LinkType.RawIp, out ParsedPacket p);
        var meta = new PacketMeta(null, null, p.IpVersion == 6);
        Verdict v = _worker.Process(ref p, FirewallEngine.MonotonicNs(), FilterHook.Forward, in meta, received: true, out PacketDecision d);
        Count(_worker, in d);
        if (v == Verdict.Accept)
        {
            Accepted++;
            if (Device.TryWrite(packet) != 0) WriteErrors++;
            return;
        }
        if (v == Verdict.Reject)
        {
            Rejected++;
            int n = RejectBuilder.Build(ref p, d.Reject, _answer);
            if (n > 0 && Device.TryWrite(_answer.AsSpan(0, n)) == 0) RejectsSent++;
            return;
        }
        Dropped++;
    }
}
