using System.Runtime.ExceptionServices;
using Firewall.Core.Pipeline;
using Firewall.Daemon.Engine;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Pcap;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// A libpcap reader for one NIC (a bridge port, or the monitored interface): waits until the NIC is up, opens it
/// non-blocking, waits on its descriptor together with the stop event, hands frames to <see cref="OnFrame"/> through
/// pcap_dispatch (zero-copy), runs conntrack maintenance when idle, and reopens the NIC when it went down and came
/// back. Frames longer than what was captured (caplen &lt; len) are dropped and counted: a frame we cannot see whole
/// is neither classified nor forwarded.
/// </summary>
public abstract partial class PcapPortReader : PacketReader, IPcapFrameHandler
{
    private const int WaitMilliseconds = 250;
    private const long MaintainEveryNs = 10_000_000;
    private const long HousekeepingEveryNs = 1_000_000_000;

    private readonly PcapDeviceOptions _options;
    private readonly ILogger _log;
    private PcapDevice? _device;
    private long _lastMaintain, _lastHousekeeping;
    private uint _statsReceived, _statsDropped, _statsIfDropped;

    protected PcapPortReader(string interfaceName, PcapDeviceOptions options, PipelineWorker worker, ILogger log)
    {
        Interface = interfaceName;
        _options = options;
        Worker = worker;
        _log = log;
    }

    public string Interface { get; }
    protected PipelineWorker Worker { get; }

    // Counters: written only by the thread holding this NIC's busy flag (below), read by status lines (64-bit reads do
    // not tear).
    public long FramesIn;
    public long Truncated;
    /// <summary>pcap_stats, cumulative over reopenings: frames the socket received, ring-full drops, interface drops.</summary>
    public long PcapReceived, PcapDropped, PcapInterfaceDropped;
    public long Reopened;

    /// <summary>The open handle (null while the NIC is down or being reopened).</summary>
    protected PcapDevice? Device => _device;

    /// <summary>
    /// Called once at start-up: fails when the NIC does not exist (a configuration mistake) or cannot be opened
    /// (permissions); a NIC that exists but is down is waited for by <see cref="Run"/>.
    /// </summary>
    public void OpenAtStart()
    {
        LinkState state = NetDevice.GetState(Interface);
        if (state == LinkState.Missing)
            throw new InvalidOperationException($"interface {Interface} does not exist in this network namespace");
        if (state != LinkState.Running) return;
        OpenDevice();
    }

    public override void Run(StopEvent stop)
    {
        while (!stop.IsSet)
        {
            if (_device is null)
            {
                if (!WaitForInterface(stop)) return;
                OpenDevice();
                Reopened++;
                LogInterfaceReopened(Name, Interface);
            }
            try
            {
                if (ReadUntilStopOrDown(stop)) return;
            }
            finally
            {
                CloseDevice();
            }
            LogInterfaceDown(Name, Interface);
        }
    }

    /// <summary>Reads until stop (true) or until the NIC went down (false). Throws when libpcap reports an error.</summary>
    private bool ReadUntilStopOrDown(StopEvent stop)
    {
        PcapDevice device = _device!;
        while (true)
        {
            WaitResult wait = WaitForFrames(device, stop, WaitMilliseconds);
            if (wait == WaitResult.Stopped) return true;
            long now = FirewallEngine.MonotonicNs();
            if (wait == WaitResult.Readable && !ReadReady(stop, now)) return false;
            if (!Tick(now)) return false;
        }
    }

    /// <summary>Sleeps until the NIC has frames (Readable), the stop event is set, or the timeout elapses.</summary>
    protected virtual WaitResult WaitForFrames(PcapDevice device, StopEvent stop, int timeoutMilliseconds) =>
        device.WaitForFrames(stop, timeoutMilliseconds);

    /// <summary>
    /// The NIC has frames: read them (one pcap_dispatch). A subclass may read more (the bridge also reads the other
    /// NIC, and may busy-poll); false when the NIC went down meanwhile.
    /// </summary>
    protected virtual bool ReadReady(StopEvent stop, long now)
    {
        TryDispatch(now);
        return true;
    }

    // 1 while a thread uses this NIC's handle, pipeline worker and counters: its own reader thread, or (bridge) the
    // other NIC's reader reading it too. Whoever holds it is the only one touching them, so they need no other lock.
    private int _busy;

    private bool TryEnter() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    private void Enter()
    {
        var spin = new SpinWait();
        while (!TryEnter()) spin.SpinOnce(sleep1Threshold: -1); // held for one batch at most
    }

    private void Exit() => Volatile.Write(ref _busy, 0);

    /// <summary>Frames the last <see cref="TryDispatch"/> read: how busy this NIC is right now.</summary>
    internal int LastBatch;

    // An error another thread met reading this NIC (its read failed, or a frame handler threw): this NIC's own thread
    // rethrows it at its next turn, so the failure is handled (logged, closed, reopened) where it belongs.
    private ExceptionDispatchInfo? _fault;

    /// <summary>
    /// <see cref="TryDispatch"/> for another thread helping to read this NIC: an error does not end the helper's own
    /// reader but is handed to this NIC's thread (<see cref="Tick"/> rethrows it); until then, helpers leave it alone.
    /// </summary>
    internal int TryDispatchForOther(long now)
    {
        if (Volatile.Read(ref _fault) is not null) return 0;
        try
        {
            return TryDispatch(now);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _fault, ExceptionDispatchInfo.Capture(e), null);
            return 0;
        }
    }

    /// <summary>
    /// One non-blocking pcap_dispatch of what the NIC has buffered, tracked at <paramref name="now"/>, from whichever
    /// thread calls it; 0 without reading when another thread is reading this NIC right now (it drains the buffer) or
    /// the NIC is closed. The batch is settled (<see cref="AfterDispatch"/>) even when a frame handler threw. Returns
    /// the frames handled.
    /// </summary>
    internal int TryDispatch(long now)
    {
        if (!TryEnter()) return 0;
        try
        {
            if (_device is not { } device) return 0;
            BatchNowNs = now;
            try
            {
                int frames = Math.Max(device.Dispatch(this), 0); // LoopBroken: nothing read
                Volatile.Write(ref LastBatch, frames);
                return frames;
            }
            finally
            {
                AfterDispatch(); // also when a frame handler threw: a batch's leases and queued frames are settled
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Conntrack maintenance every 10 ms and housekeeping (statistics, link state) every second, on this NIC's reader
    /// thread. False when the NIC went down.
    /// </summary>
    protected bool Tick(long now)
    {
        if (Volatile.Read(ref _fault) is not null) Interlocked.Exchange(ref _fault, null)!.Throw();
        bool maintain = now - _lastMaintain >= MaintainEveryNs;
        bool housekeeping = now - _lastHousekeeping >= HousekeepingEveryNs;
        if (!maintain && !housekeeping) return true;
        Enter();
        try
        {
            if (maintain)
            {
                _lastMaintain = now;
                Worker.Conntrack.Maintain(now);
                SampleAllocations();
            }
            if (housekeeping)
            {
                _lastHousekeeping = now;
                ReadStatistics(_device!);
                Housekeeping();
                if (NetDevice.GetState(Interface) != LinkState.Running) return false;
            }
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// The monotonic clock read once before each pcap_dispatch: every frame of the batch is tracked at this time (the
    /// batch takes microseconds; conntrack timeouts count in seconds).
    /// </summary>
    protected long BatchNowNs;

    /// <summary>After each pcap_dispatch, on the thread that read the batch (e.g. to send what the batch queued).</summary>
    protected virtual void AfterDispatch() { }

    /// <summary>Once a second on the reader thread (for rate-limited logs of what the hot path only counted).</summary>
    protected virtual void Housekeeping() { }

    /// <summary>A reader waiting for its NIC is alive (not stuck): it keeps its heartbeat.</summary>
    private bool Beat()
    {
        Heartbeat?.Beat();
        return true;
    }

    private bool WaitForInterface(StopEvent stop)
    {
        if (NetDevice.GetState(Interface) == LinkState.Running) return true;
        LogInterfaceWaiting(Name, Interface);
        while (!NetDevice.WaitUntilRunning(Interface, TimeSpan.FromSeconds(1), stop) && Beat())
            if (stop.IsSet) return false;
        return true;
    }

    private void OpenDevice()
    {
        PcapDevice device = PcapDevice.Open(Interface, _options);
        try
        {
            OnOpened(device);
        }
        catch
        {
            device.Dispose(); // not half open: the next Run opens the NIC afresh
            throw;
        }
        _statsReceived = _statsDropped = _statsIfDropped = 0;
        Enter();
        _device = device;
        Exit();
    }

    private void CloseDevice()
    {
        PcapDevice? device = _device;
        if (device is null) return;
        Enter(); // nobody else is reading it
        try
        {
            try { ReadStatistics(device); } catch (PcapException) { /* the NIC is gone: keep the last figures */ }
            OnClosing(device);
            _device = null;
            device.Dispose();
        }
        finally
        {
            Exit();
        }
    }

    private void ReadStatistics(PcapDevice device)
    {
        PcapStatistics s = device.GetStatistics();
        // 32-bit counters of this handle: add the differences so the totals survive wrapping and reopening
        PcapReceived += unchecked(s.Received - _statsReceived);
        PcapDropped += unchecked(s.Dropped - _statsDropped);
        PcapInterfaceDropped += unchecked(s.InterfaceDropped - _statsIfDropped);
        (_statsReceived, _statsDropped, _statsIfDropped) = (s.Received, s.Dropped, s.InterfaceDropped);
    }

    /// <summary>The handle is open (publish it for injection).</summary>
    protected virtual void OnOpened(PcapDevice device) { }

    /// <summary>The handle is about to be closed (withdraw it; wait until nobody injects through it).</summary>
    protected virtual void OnClosing(PcapDevice device) { }

    public abstract void OnFrame(in PcapFrame frame);

    /// <summary>The pcap figures for status lines.</summary>
    protected string DescribePcap() =>
        $"pcap_recv={Interlocked.Read(ref PcapReceived)} pcap_drop={Interlocked.Read(ref PcapDropped)} pcap_ifdrop={Interlocked.Read(ref PcapInterfaceDropped)} reopened={Interlocked.Read(ref Reopened)} restarts={Interlocked.Read(ref Restarts)} thread_alloc={Volatile.Read(ref ThreadAllocatedBytes)}";

    [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "InterfaceWaiting {Reader}: {Interface} is not up; waiting for it")]
    private partial void LogInterfaceWaiting(string reader, string @interface);

    [LoggerMessage(EventId = 131, Level = LogLevel.Warning, Message = "InterfaceDown {Reader}: {Interface} went down; closed, waiting for it")]
    private partial void LogInterfaceDown(string reader, string @interface);

    [LoggerMessage(EventId = 132, Level = LogLevel.Information, Message = "InterfaceReopened {Reader}: {Interface} is up again; reading")]
    private partial void LogInterfaceReopened(string reader, string @interface);
}
