using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Options;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Netlink;
using Firewall.Native.Sockets;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// The kernel's FORWARD/INPUT/OUTPUT chains send packets to our NFQUEUE queue(s); one reader thread per queue, each
/// with its own pipeline worker. Rules run in the chain the packet's hook names. Accepts are batched (flushed when
/// 64 are pending or the queue is idle), drops are sent at once; a REJECT drops the packet and sends the answer
/// (RST / ICMP unreachable) through a raw socket, so it leaves through the host's routing like the kernel's own.
/// With ManageKernelRules the NFQUEUE rules are inserted at start and exactly those removed at stop.
/// </summary>
public sealed partial class NfqueueDataPath : SupervisedDataPath<NfqueueReader>
{
    private readonly NfqueueOptions _options;
    private readonly KernelRules _rules = new();

    public NfqueueDataPath(FirewallEngine engine, NfqueueOptions options, ILogger log) : base(engine, log)
    {
        _options = options;
    }

    public override string Name => "nfqueue";

    public IReadOnlyList<NfqueueReader> Readers => _readers;

    public override void Open()
    {
        NfQueueFlags flags = (_options.Gso ? NfQueueFlags.Gso : 0) | (_options.FailOpen ? NfQueueFlags.FailOpen : 0);
        var queueOptions = new NfQueueOptions
        {
            MaxQueueLength = (uint)_options.QueueMaxLen,
            Flags = flags,
            FlagsMask = NfQueueFlags.Gso | NfQueueFlags.FailOpen,
            ReceiveBufferBytes = _options.Gso ? 256 * 1024 : 128 * 1024,
        };
        var queues = _options.EffectiveQueues;
        var busyPoll = new BusyPollToken(TimeSpan.FromMicroseconds(_options.BusyPollUs));
        _readers = queues.Select(q => new NfqueueReader((ushort)q, queueOptions, _engine.Pipeline.CreateWorker(), _stop, _log, busyPoll)).ToArray();
        try
        {
            foreach (var r in _readers) r.OpenAtStart();
            if (_options.ManageKernelRules)
            {
                _rules.Install(_options.EffectiveChains, queues, _options.QueueBypass, _options.EffectiveFamilies);
                foreach (var line in _rules.Describe()) LogRuleInstalled(line);
            }
        }
        catch
        {
            foreach (var r in _readers) r.Close();
            throw;
        }
    }

    public override async Task RunAsync(CancellationToken stoppingToken)
    {
        Task run = _supervisor.Start(_readers);
        try { await Task.WhenAny(run, Task.Delay(Timeout.Infinite, stoppingToken)).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        // Remove our rules while the readers still answer, so packets already queued get their verdicts; then stop.
        RemoveRules();
        _stop.Set();
        await run.ConfigureAwait(false);
    }

    private void RemoveRules()
    {
        foreach (var line in _rules.Describe()) LogRuleRemoved(line);
        foreach (var problem in _rules.Remove()) LogRuleRemoveFailed(problem);
    }

    protected override void BeforeStop() => RemoveRules();

    protected override void AfterStop()
    {
        foreach (var r in _readers) r.Close();
    }

    [LoggerMessage(EventId = 150, Level = LogLevel.Information, Message = "KernelRuleInstalled {Rule}")]
    private partial void LogRuleInstalled(string rule);

    [LoggerMessage(EventId = 151, Level = LogLevel.Information, Message = "KernelRuleRemoved {Rule}")]
    private partial void LogRuleRemoved(string rule);

    [LoggerMessage(EventId = 152, Level = LogLevel.Error, Message = "KernelRuleRemoveFailed {Problem}")]
    private partial void LogRuleRemoveFailed(string problem);
}

/// <summary>Interface names by ifindex, cached (refreshed every 30 s, so a renamed or re-created interface is seen).</summary>
public sealed class InterfaceNameCache
{
    private readonly string?[] _names = new string?[1024];
    private long _refreshedAt;

    public string? Get(uint index)
    {
        if (index == 0) return null;
        if (index >= (uint)_names.Length) return NetDevice.GetName(index);
        return _names[index] ??= NetDevice.GetName(index);
    }

    public void RefreshIfDue(long nowNs)
    {
        if (nowNs - _refreshedAt < 30_000_000_000L) return;
        _refreshedAt = nowNs;
        Array.Clear(_names);
    }
}

/// <summary>Reads one NFQUEUE queue and gives every packet its verdict.</summary>
public sealed partial class NfqueueReader : PacketReader
{
    private const int WaitMilliseconds = 250;
    private const long MaintainEveryNs = 10_000_000;

    private readonly ushort _queueNumber;
    private readonly NfQueueOptions _queueOptions;
    private readonly PipelineWorker _worker;
    private readonly StopEvent _stop;
    private readonly ILogger _log;
    private readonly InterfaceNameCache _names = new();
    private readonly byte[] _answer = new byte[RejectBuilder.MaxAnswerLength];
    private NfQueue? _queue;
    private RawIpSocket? _raw;
    private NfQueueCounters _lastCounters;
    private readonly BusyPollToken _busyPoll;
    private long _lastMaintain;

    public NfqueueReader(ushort queueNumber, NfQueueOptions queueOptions, PipelineWorker worker, StopEvent stop, ILogger log,
                         BusyPollToken busyPoll)
    {
        _busyPoll = busyPoll;
        _queueNumber = queueNumber;
        _queueOptions = queueOptions;
        _worker = worker;
        _stop = stop;
        _log = log;
    }

    public override string Name => $"queue {_queueNumber}";

    public long Packets, Accepted, Dropped, Rejected, RejectsSent, ChecksumNotVerified, OtherHook, Truncated;

    /// <summary>Busy-poll windows this reader spun (<see cref="Options.NfqueueOptions.BusyPollUs"/>).</summary>
    public long BusyPolls;

    public override string Describe()
    {
        NfQueueCounters c = _queue?.Counters ?? _lastCounters;
        return $"{Name}: packets={Interlocked.Read(ref Packets)} accepted={Interlocked.Read(ref Accepted)} dropped={Interlocked.Read(ref Dropped)} " +
               $"rejected={Interlocked.Read(ref Rejected)} rejects_sent={Interlocked.Read(ref RejectsSent)} csum_not_verified={Interlocked.Read(ref ChecksumNotVerified)} " +
               $"other_hook={Interlocked.Read(ref OtherHook)} truncated={Interlocked.Read(ref Truncated)} busy_polls={Interlocked.Read(ref BusyPolls)} enobufs={c.NoBufferErrors} " +
               $"batch_verdicts={c.BatchVerdicts} single_verdicts={c.SingleVerdicts} restarts={Interlocked.Read(ref Restarts)} thread_alloc={Volatile.Read(ref ThreadAllocatedBytes)}";
    }

    /// <summary>Binds the queue (start-up fails with a clear message when another process holds it).</summary>
    public void OpenAtStart()
    {
        _queue = OpenQueue();
        try { _raw = new RawIpSocket(); }
        catch (NativeException e) { LogNoRawSocket(Name, e.Message); }
    }

    private NfQueue OpenQueue()
    {
        try
        {
            return NfQueue.Open(_queueNumber, _queueOptions, _stop);
        }
        catch (NativeException e) when (e.Errno == 1 && e.Operation.EndsWith("BIND", StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"{DataPathOptions.SectionPath}:Nfqueue:Queues: NFQUEUE {_queueNumber} is already bound by another process " +
                "(the kernel answers EPERM; stop the other listener or choose another queue number) — or this process lacks CAP_NET_ADMIN.", e);
        }
        catch (NativeException e)
        {
            throw new InvalidOperationException($"{DataPathOptions.SectionPath}:Nfqueue:Queues: {e.Message}", e);
        }
    }

    public void Close()
    {
        if (_queue is not null) _lastCounters = _queue.Counters;
        _queue?.Dispose();
        _queue = null;
        _raw?.Dispose();
        _raw = null;
    }

    public override void Run(StopEvent stop)
    {
        _queue ??= OpenQueue();
        try
        {
            ReadUntilStop(_queue);
        }
        catch
        {
            _lastCounters = _queue.Counters;
            _queue.Dispose(); // the next Run binds afresh
            _queue = null;
            throw;
        }
    }

    private void ReadUntilStop(NfQueue queue)
    {
        bool spinning = false; // holding the busy-poll token: reading without sleeping until spinUntil
        long spinUntil = 0;
        try
        {
            while (true)
            {
                NfqReceiveResult r = queue.Receive(out NfqMessageReader messages, spinning ? 0 : WaitMilliseconds);
                if (r == NfqReceiveResult.Stopped)
                {
                    queue.FlushDeferredAccepts();
                    return;
                }
                if (r == NfqReceiveResult.Received)
                    while (messages.TryReadPacket(out NfqPacket packet)) Handle(queue, in packet);
                long now = FirewallEngine.MonotonicNs();
                if (r == NfqReceiveResult.Received)
                {
                    if (!spinning && _busyPoll.TryTake())
                    {
                        spinning = true;
                        BusyPolls++;
                    }
                    spinUntil = now + _busyPoll.WindowNs;
                }
                else if (spinning && now >= spinUntil)
                {
                    spinning = false;
                    _busyPoll.Release();
                }
                else if (spinning)
                {
                    Thread.Yield(); // a task woken on this CPU (the one our last verdict woke, often) runs at once
                }
                if (now - _lastMaintain >= MaintainEveryNs)
                {
                    // verdicts first: at light load maintenance falls due on almost every packet, and must not delay it
                    queue.FlushDeferredAccepts();
                    _lastMaintain = now;
                    _worker.Conntrack.Maintain(now);
                    _names.RefreshIfDue(now);
                    SampleAllocations();
                }
            }
        }
        finally
        {
            if (spinning) _busyPoll.Release();
        }
    }

    private void Handle(NfQueue queue, in NfqPacket packet)
    {
        Packets++;
        FilterHook hook;
        bool received;
        switch (packet.Hook)
        {
            case NfHook.Forward: hook = FilterHook.Forward; received = true; break;
            case NfHook.LocalIn: hook = FilterHook.Input; received = true; break;
            case NfHook.LocalOut: hook = FilterHook.Output; received = false; break;
            default:
                // PREROUTING/POSTROUTING queues (a mangle/raw rule of the administrator's): no filter chain runs there.
                OtherHook++;
                Accepted++;
                queue.AcceptDeferred(packet.PacketId);
                return;
        }
        ReadOnlySpan<byte> payload = packet.Payload;
        bool truncated = payload.Length < packet.OriginalLength;
        if (truncated) Truncated++;
        // Partial checksums (GSO / CSUMNOTREADY) are not verifiable; neither is a truncated copy.
        bool verify = received && !truncated && (packet.SkbInfo & NfqSkbInfo.ChecksumNotReady) == 0;
        if (received && !verify) ChecksumNotVerified++;

        PacketParser.Parse(payload, LinkType.RawIp, out ParsedPacket p);
        var meta = new PacketMeta(_names.Get(packet.InInterfaceIndex), _names.Get(packet.OutInterfaceIndex), p.IpVersion == 6);
        Verdict v = _worker.Process(ref p, FirewallEngine.MonotonicNs(), hook, in meta, received, verify, out PacketDecision d);
        Count(_worker, in d);
        if (v == Verdict.Accept)
        {
            Accepted++;
            queue.AcceptDeferred(packet.PacketId);
            return;
        }
        queue.SetVerdict(packet.PacketId, NfVerdict.Drop);
        if (v == Verdict.Reject)
        {
            Rejected++;
            int n = _raw is null ? 0 : RejectBuilder.Build(ref p, d.Reject, _answer);
            if (n > 0 && _raw!.TrySend(_answer.AsSpan(0, n)) == 0) RejectsSent++;
            return;
        }
        Dropped++;
    }

    [LoggerMessage(EventId = 160, Level = LogLevel.Warning, Message = "NoRawSocket {Reader}: REJECT answers cannot be sent ({Error}); rejected packets are dropped silently")]
    private partial void LogNoRawSocket(string reader, string error);
}
