using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Options;
using Firewall.Native;
using Firewall.Native.Pcap;
using Firewall.Native.Sockets;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// "Bump in the wire" between two NICs without IP addresses, through libpcap. One reader thread per NIC, each with
/// its own pipeline worker (at light load a thread also reads the other NIC: <see cref="BridgePortReader"/>); every
/// frame read on one NIC (direction IN only) runs the FORWARD chain with -i = that NIC and -o = the other, and an
/// accepted frame is sent out of the other NIC (its transmit ring, or pcap_inject on its handle; never read back).
/// REJECT answers (TCP RST, ICMP/ICMPv6 unreachable) go back out of the ingress NIC.
/// </summary>
public sealed partial class BridgeDataPath : SupervisedDataPath<BridgePortReader>
{
    private readonly BridgeOptions _options;

    public BridgeDataPath(FirewallEngine engine, BridgeOptions options, ILogger log) : base(engine, log)
    {
        _options = options;
    }

    public override string Name => "bridge";

    public IReadOnlyList<BridgePortReader> Ports => _readers;

    protected override void AfterStop()
    {
        foreach (var r in _readers) r.Dispose();
    }

    public override void Open()
    {
        Verdict nonIp = _options.NonIp == "DROP" ? Verdict.Drop : Verdict.Accept;
        Verdict arp = _options.Arp == "DROP" ? Verdict.Drop : Verdict.Accept;
        _engine.Pipeline.NonIpVerdict = nonIp;
        var pcap = new PcapDeviceOptions
        {
            SnapLength = 65535,
            Promiscuous = true,
            ImmediateMode = true,
            BufferSize = _options.BufferSizeMb * 1024 * 1024,
            Direction = PcapDirection.In,
            NonBlocking = true,
        };
        var a = new BridgePort(_options.Interfaces[0]);
        var b = new BridgePort(_options.Interfaces[1]);
        var busyPoll = new BusyPollToken(TimeSpan.FromMicroseconds(_options.BusyPollUs));
        _readers =
        [
            new BridgePortReader(a, b, pcap, _engine.Pipeline.CreateWorker(), arp, nonIp, _options, busyPoll, _log),
            new BridgePortReader(b, a, pcap, _engine.Pipeline.CreateWorker(), arp, nonIp, _options, busyPoll, _log),
        ];
        _readers[0].Partner = _readers[1];
        _readers[1].Partner = _readers[0];
        try
        {
            foreach (var r in _readers) r.OpenAtStart();
        }
        catch (Exception e) when (e is PcapException or NativeException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{DataPathOptions.SectionPath}:Bridge:Interfaces: {e.Message}", e);
        }
    }
}

/// <summary>
/// One NIC of the bridge as the other side sees it: where to send frames out of it (the NIC's transmit ring, or
/// the libpcap handle that reads it), published by the NIC's own reader while open, and the egress counters. The
/// other NIC's reader takes a lease for each batch it reads, so the owner never closes a ring or handle another
/// thread is sending on.
/// </summary>
public sealed class BridgePort
{
    private PcapDevice? _device;
    private PacketTxRing? _ring;
    private int _leases;

    public BridgePort(string name) => Name = name;

    public string Name { get; }

    /// <summary>Frames sent out of this NIC (forwarded from the other one); written only under the other NIC's busy flag.</summary>
    public long FramesOut;
    /// <summary>Accepted frames that could not be sent here (NIC down, frame larger than the MTU, ring full…).</summary>
    public long InjectErrors;
    /// <summary>Transmit-ring flushes (send calls) made for this NIC; FramesOut / Flushes is the average batch.</summary>
    public long Flushes;

    /// <summary>Of those, flushes of a single frame sent as a copy (Bridge:TxRingCopySingle); written like FramesOut.</summary>
    public long SingleCopies;

    internal void Publish(PcapDevice device, PacketTxRing? ring)
    {
        Volatile.Write(ref _ring, ring);
        Volatile.Write(ref _device, device);
    }

    /// <summary>
    /// Withdraws the handle and ring and waits until no batch is sending through them; returns the ring for its owner
    /// to close.
    /// </summary>
    internal PacketTxRing? Withdraw()
    {
        Interlocked.Exchange(ref _device, null);
        PacketTxRing? ring = Interlocked.Exchange(ref _ring, null);
        var spin = new SpinWait();
        while (Volatile.Read(ref _leases) != 0) spin.SpinOnce();
        if (ring is not null) Interlocked.Add(ref InjectErrors, ring.Pending); // queued, never sent: the NIC went away
        return ring;
    }

    /// <summary>Starts a batch: until <see cref="Leave"/>, the returned ring or handle stays open.</summary>
    internal void Enter(out PacketTxRing? ring, out PcapDevice? device)
    {
        Interlocked.Increment(ref _leases);
        ring = Volatile.Read(ref _ring);
        device = Volatile.Read(ref _device);
    }

    internal void Leave() => Interlocked.Decrement(ref _leases);
}

/// <summary>
/// Reads one bridge NIC and forwards to the other. After reading its own NIC, the thread also reads the other NIC
/// (unless that NIC's own thread is at it): the answer to a frame just forwarded is usually queued there by the time
/// the send returns, and is forwarded without waking the other thread. With a busy-poll window it keeps reading both
/// for that long after the last frame.
/// </summary>
public sealed partial class BridgePortReader : PcapPortReader, IDisposable
{
    private readonly BridgePort _ingress, _egress;
    private readonly Verdict _arp, _nonIp;
    private readonly BridgeOptions _bridge;
    private readonly BusyPollToken _busyPoll;
    private readonly byte[] _answer = new byte[RejectBuilder.MaxAnswerLength];
    private readonly ILogger _log;
    private readonly Bell _bell = new();
    // true while this thread busy-polls and reads the other NIC on every turn: the other NIC's thread then waits on
    // its bell, not on its NIC (see WaitForFrames)
    private volatile bool _covering;
    private long _lastInjectErrors;
    // the egress NIC as leased for the current batch
    private bool _leased;
    private PacketTxRing? _outRing;
    private PcapDevice? _outDevice;

    public BridgePortReader(BridgePort ingress, BridgePort egress, PcapDeviceOptions options, PipelineWorker worker,
                            Verdict arp, Verdict nonIp, BridgeOptions bridge, BusyPollToken busyPoll, ILogger log)
        : base(ingress.Name, options, worker, log)
    {
        _busyPoll = busyPoll;
        _ingress = ingress;
        _egress = egress;
        _arp = arp;
        _nonIp = nonIp;
        _bridge = bridge;
        _log = log;
    }

    public override string Name => _ingress.Name;

    public BridgePort Ingress => _ingress;

    /// <summary>The other NIC's reader, which this thread also reads from.</summary>
    public BridgePortReader? Partner { get; internal set; }

    /// <summary>Frames of this NIC accepted (and handed to the other NIC), dropped by verdict, rejected, non-IP.</summary>
    public long Accepted, Dropped, Rejected, RejectsSent, NonIp;

    /// <summary>Frames of the other NIC this thread read (written by this thread only); busy-poll windows it spun.</summary>
    public long PartnerFrames, BusyPolls;

    /// <summary>Times this thread waited on its bell instead of its NIC, while the other thread read both.</summary>
    public long Parked;

    public void Dispose() => _bell.Dispose();

    /// <summary>
    /// While the other NIC's thread busy-polls and reads this NIC too, this thread does not wait on its NIC: each frame
    /// arriving there (the answers to what the other thread forwards) would wake it, across CPUs and from inside the
    /// other thread's send(), only to find the frame taken. It waits on its bell instead, which the other thread rings
    /// as soon as it stops reading this NIC; then it reads its NIC once and waits on it again.
    /// </summary>
    protected override WaitResult WaitForFrames(PcapDevice device, StopEvent stop, int timeoutMilliseconds)
    {
        if (Partner is not { _covering: true }) return device.WaitForFrames(stop, timeoutMilliseconds);
        Parked++;
        WaitResult w = _bell.Wait(stop, timeoutMilliseconds);
        return w == WaitResult.Stopped ? w : WaitResult.Readable; // read once: the other thread may have left frames
    }

    /// <summary>Starts or stops reading the other NIC on every turn; stopping rings its thread's bell.</summary>
    private void Cover(bool on)
    {
        if (_covering == on) return;
        _covering = on;
        if (!on) Partner?._bell.Ring();
    }

    protected override bool ReadReady(StopEvent stop, long now)
    {
        int frames = ReadBoth(now, out _);
        if (frames == 0 || !_busyPoll.TryTake()) return true;
        BusyPolls++;
        try
        {
            long until = now + _busyPoll.WindowNs;
            while (!stop.IsSet)
            {
                now = FirewallEngine.MonotonicNs();
                int read = ReadBoth(now, out bool both);
                Cover(both);
                if (read > 0) until = now + _busyPoll.WindowNs;
                else if (now >= until) return true;
                else Thread.Yield(); // a task woken on this CPU (the one our last frame woke, often) runs at once
                if (!Tick(now)) return false;
            }
            return true;
        }
        finally
        {
            Cover(false);
            _busyPoll.Release();
        }
    }

    /// <summary>Batches this small or smaller mean light load, where reading the other NIC too saves a wake-up.</summary>
    private const int LightBatch = 4;

    /// <summary>
    /// Reads this NIC, then the other one too while both are lightly loaded. Under load each NIC's own thread keeps
    /// it: one thread reading both would move the other NIC's pipeline state between CPUs for nothing.
    /// </summary>
    private int ReadBoth(long now, out bool both)
    {
        int frames = TryDispatch(now);
        both = false;
        if (frames > LightBatch || Partner is not { } partner || Volatile.Read(ref partner.LastBatch) > LightBatch) return frames;
        both = true;
        int n = partner.TryDispatchForOther(now);
        PartnerFrames += n;
        return frames + n;
    }

    public override string Describe() =>
        $"{_ingress.Name}: in={Interlocked.Read(ref FramesIn)} accepted={Interlocked.Read(ref Accepted)} dropped={Interlocked.Read(ref Dropped)} " +
        $"rejected={Interlocked.Read(ref Rejected)} rejects_sent={Interlocked.Read(ref RejectsSent)} non_ip={Interlocked.Read(ref NonIp)} " +
        $"truncated={Interlocked.Read(ref Truncated)} out={Interlocked.Read(ref _ingress.FramesOut)} out_batches={Interlocked.Read(ref _ingress.Flushes)} out_single_copies={Interlocked.Read(ref _ingress.SingleCopies)} " +
        $"inject_errors={Interlocked.Read(ref _ingress.InjectErrors)} partner_frames={Interlocked.Read(ref PartnerFrames)} busy_polls={Interlocked.Read(ref BusyPolls)} parked={Interlocked.Read(ref Parked)} " +
        DescribePcap();

    /// <summary>The NIC is open: with transmit rings, open this NIC's ring and stop the capture from copying what leaves through it.</summary>
    protected override void OnOpened(PcapDevice device)
    {
        PacketTxRing? ring = null;
        if (_bridge.TxRing)
        {
            device.IgnoreOutgoing();
            ring = PacketTxRing.Open(_ingress.Name, _bridge.TxRingFrames, _bridge.QdiscBypass, _bridge.TxRingCopySingle);
        }
        _ingress.Publish(device, ring); // last: nothing above can fail once the other reader may send through it
    }

    protected override void OnClosing(PcapDevice device) => _ingress.Withdraw()?.Dispose();

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
        Verdict v;
        RejectKind reject = RejectKind.None;
        if (p.Error == ParseError.NotIp)
        {
            NonIp++;
            v = p.EtherType == PacketParser.EtherTypeArp ? _arp : _nonIp;
        }
        else
        {
            var meta = new PacketMeta(_ingress.Name, _egress.Name, p.IpVersion == 6);
            v = Worker.Process(ref p, BatchNowNs, FilterHook.Forward, in meta, received: true, out PacketDecision d);
            reject = d.Reject;
            Count(Worker, in d);
        }

        if (v == Verdict.Accept)
        {
            Accepted++;
            Forward(data);
            return;
        }
        if (v == Verdict.Reject)
        {
            Rejected++;
            int n = RejectBuilder.Build(ref p, reject, _answer);
            if (n > 0 && Device is { } own && own.TryInject(_answer.AsSpan(0, n))) RejectsSent++;
            return;
        }
        Dropped++;
    }

    private void Forward(ReadOnlySpan<byte> frame)
    {
        if (!_leased)
        {
            _egress.Enter(out _outRing, out _outDevice);
            _leased = true;
        }
        if (_outRing is { } ring)
        {
            if (!ring.TryQueue(frame)) Interlocked.Increment(ref _egress.InjectErrors);
            else if (ring.Pending >= FlushEvery) Flush(ring);
        }
        else if (_outDevice is { } device && device.TryInject(frame)) _egress.FramesOut++;
        else Interlocked.Increment(ref _egress.InjectErrors); // rare; the NIC's owner may add its own count at close
    }

    /// <summary>A long batch is sent in parts, so the first frames do not wait for the last.</summary>
    private const int FlushEvery = 64;

    private void Flush(PacketTxRing ring)
    {
        int queued = ring.Pending;
        long copies = ring.SingleCopies;
        if (ring.Flush() != 0) return; // still queued: the next flush retries; lost ones are counted when the NIC closes
        _egress.FramesOut += queued;
        _egress.Flushes++;
        _egress.SingleCopies += ring.SingleCopies - copies; // the NIC's own count, kept across reopens like the others
    }

    protected override void AfterDispatch()
    {
        if (!_leased) return;
        if (_outRing is { } ring) Flush(ring);
        _outRing = null;
        _outDevice = null;
        _leased = false;
        _egress.Leave();
    }

    protected override void Housekeeping()
    {
        long errors = Volatile.Read(ref _egress.InjectErrors);
        if (errors == _lastInjectErrors) return;
        LogInjectErrors(_egress.Name, errors - _lastInjectErrors, errors);
        _lastInjectErrors = errors;
    }

    [LoggerMessage(EventId = 140, Level = LogLevel.Warning, Message = "InjectFailed {Interface}: {Count} accepted frames could not be sent in the last second ({Total} in all; NIC down or frame larger than its MTU: switch off GRO/LRO/TSO/GSO on bridge ports)")]
    private partial void LogInjectErrors(string @interface, long count, long total);
}
