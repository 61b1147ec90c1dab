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

    // Counters: written only by the reader thread, read by status lines (64-bit reads do not tear).
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
            WaitResult wait = device.WaitForFrames(stop, WaitMilliseconds);
            if (wait == WaitResult.Stopped) return true;
            long now = FirewallEngine.MonotonicNs();
            if (wait == WaitResult.Readable)
            {
                BatchNowNs = now;
                try
                {
                    device.Dispatch(this);
                }
                finally
                {
                    AfterDispatch(); // also when a frame handler threw: a batch's leases and queued frames are settled
                }
            }
            if (now - _lastMaintain >= MaintainEveryNs)
            {
                _lastMaintain = now;
                Worker.Conntrack.Maintain(now);
                SampleAllocations();
            }
            if (now - _lastHousekeeping >= HousekeepingEveryNs)
            {
                _lastHousekeeping = now;
                ReadStatistics(device);
                Housekeeping();
                if (NetDevice.GetState(Interface) != LinkState.Running) return false;
            }
        }
    }

    /// <summary>
    /// The monotonic clock read once before each pcap_dispatch: every frame of the batch is tracked at this time (the
    /// batch takes microseconds; conntrack timeouts count in seconds).
    /// </summary>
    protected long BatchNowNs;

    /// <summary>After each pcap_dispatch, on the reader thread (e.g. to send what the batch queued).</summary>
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
        _device = device;
    }

    private void CloseDevice()
    {
        PcapDevice? device = _device;
        if (device is null) return;
        try { ReadStatistics(device); } catch (PcapException) { /* the NIC is gone: keep the last figures */ }
        OnClosing(device);
        _device = null;
        device.Dispose();
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
