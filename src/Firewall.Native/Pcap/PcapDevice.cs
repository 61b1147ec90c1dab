using System.Runtime.InteropServices;

namespace Firewall.Native.Pcap;

/// <summary>A live libpcap handle on one network interface (of the calling thread's network namespace).</summary>
public sealed unsafe class PcapDevice : PcapHandle
{
    private PcapDevice(nint pcap, string device) : base(pcap, device)
    {
    }

    /// <summary>Positive pcap_activate warning text (e.g. promiscuous mode unsupported), else null.</summary>
    public string? ActivationWarning { get; private set; }

    /// <summary>pcap_findalldevs: names of the capture devices libpcap can see.</summary>
    public static string[] ListDeviceNames()
    {
        PcapLibrary.EnsureInitialized();
        byte* errbuf = stackalloc byte[Interop.Pcap.PCAP_ERRBUF_SIZE];
        errbuf[0] = 0;
        Interop.Pcap.Interface* list;
        if (Interop.Pcap.FindAllDevices(&list, errbuf) != 0)
            throw new PcapException("pcap_findalldevs", Interop.Pcap.PCAP_ERROR, PcapLibrary.ReadErrorBuffer(errbuf));
        try
        {
            var names = new List<string>();
            for (Interop.Pcap.Interface* item = list; item != null; item = item->Next)
                names.Add(Marshal.PtrToStringUTF8((nint)item->Name) ?? "");
            return names.ToArray();
        }
        finally
        {
            if (list != null) Interop.Pcap.FreeAllDevices(list);
        }
    }

    /// <summary>pcap_create + options + pcap_activate + direction/filter/non-blocking. Throws PcapException.</summary>
    public static PcapDevice Open(string device, PcapDeviceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        options ??= new PcapDeviceOptions();
        PcapLibrary.EnsureInitialized();

        byte* errbuf = stackalloc byte[Interop.Pcap.PCAP_ERRBUF_SIZE];
        errbuf[0] = 0;
        nint pcap = Interop.Pcap.Create(device, errbuf);
        if (pcap == 0)
            throw new PcapException($"pcap_create {device}", Interop.Pcap.PCAP_ERROR, PcapLibrary.ReadErrorBuffer(errbuf));

        var result = new PcapDevice(pcap, device);
        try
        {
            result.Configure(options, errbuf);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private void Configure(PcapDeviceOptions options, byte* errbuf)
    {
        nint pcap = Handle;
        Check(Interop.Pcap.SetSnapLength(pcap, options.SnapLength), "pcap_set_snaplen");
        Check(Interop.Pcap.SetPromiscuous(pcap, options.Promiscuous ? 1 : 0), "pcap_set_promisc");
        Check(Interop.Pcap.SetImmediateMode(pcap, options.ImmediateMode ? 1 : 0), "pcap_set_immediate_mode");
        Check(Interop.Pcap.SetBufferSize(pcap, options.BufferSize), "pcap_set_buffer_size");
        Check(Interop.Pcap.SetTimeout(pcap, options.TimeoutMilliseconds), "pcap_set_timeout");
        if (options.NanosecondTimestamps)
            _ = Interop.Pcap.SetTimestampPrecision(pcap, Interop.Pcap.PCAP_TSTAMP_PRECISION_NANO); // unsupported: stays micro

        int rc = Interop.Pcap.Activate(pcap);
        if (rc < 0) throw new PcapException($"pcap_activate {Name}", rc, StatusAndDetail(rc, PcapLibrary.HandleError(pcap)));
        if (rc > 0) ActivationWarning = StatusAndDetail(rc, PcapLibrary.HandleError(pcap));
        ReadTimestampPrecision();

        SetDirection(options.Direction);
        if (options.Filter is not null) SetFilter(options.Filter);
        if (options.NonBlocking)
        {
            SetNonBlocking(true, errbuf);
        }
        else if (options.TimeoutMilliseconds > 0)
        {
            SetNonBlocking(true, errbuf);
            EmulateTimeout(options.TimeoutMilliseconds);
        }
    }

    /// <summary>pcap_setdirection. On Linux the filtered frames are still counted by ps_recv.</summary>
    public void SetDirection(PcapDirection direction)
    {
        if (Interop.Pcap.SetDirection(Handle, (int)direction) != 0)
            throw new PcapException($"pcap_setdirection {direction} on {Name}", Interop.Pcap.PCAP_ERROR, LastErrorMessage);
    }

    /// <summary>pcap_setnonblock. Switching explicitly turns a blocking-with-timeout handle into plain libpcap behaviour.</summary>
    public void SetNonBlocking(bool nonBlocking)
    {
        StopEmulatingTimeout();
        byte* errbuf = stackalloc byte[Interop.Pcap.PCAP_ERRBUF_SIZE];
        errbuf[0] = 0;
        SetNonBlocking(nonBlocking, errbuf);
    }

    private void SetNonBlocking(bool nonBlocking, byte* errbuf)
    {
        if (Interop.Pcap.SetNonBlocking(Handle, nonBlocking ? 1 : 0, errbuf) != 0)
            throw new PcapException($"pcap_setnonblock on {Name}", Interop.Pcap.PCAP_ERROR, PcapLibrary.ReadErrorBuffer(errbuf));
    }

    /// <summary>Waits until frames are buffered, stop is set, or the timeout elapses (poll on the selectable fd).</summary>
    public WaitResult WaitForFrames(StopEvent stop, int timeoutMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(stop);
        return stop.Wait(SelectableFd, timeoutMilliseconds);
    }

    /// <summary>One poll over several devices plus stop: ready[i] tells which devices have frames. One thread can serve a bridge.</summary>
    public static WaitResult WaitAny(ReadOnlySpan<PcapDevice> devices, StopEvent stop, int timeoutMilliseconds, Span<bool> ready)
    {
        ArgumentNullException.ThrowIfNull(stop);
        if (ready.Length < devices.Length) throw new ArgumentException("ready must have one entry per device", nameof(ready));
        Span<int> fds = stackalloc int[devices.Length];
        for (int i = 0; i < devices.Length; i++) fds[i] = devices[i].SelectableFd;
        return stop.WaitAny(fds, ready[..devices.Length], timeoutMilliseconds);
    }

    /// <summary>
    /// PACKET_IGNORE_OUTGOING on the capture socket (Linux 4.20+): the kernel stops copying frames that leave this
    /// interface into the handle's ring at all (PCAP_D_IN drops them only after the copy, in libpcap). Needed when
    /// frames are sent on the interface through another socket (<see cref="Sockets.PacketTxRing"/>). Throws NativeException.
    /// </summary>
    public void IgnoreOutgoing()
    {
        int fd = Interop.Pcap.FileNo(Handle);
        if (fd < 0) throw new PcapException($"pcap_fileno on {Name}", fd, "no descriptor");
        int on = 1;
        if (Interop.Socket.SetOption(fd, Interop.Packet.SOL_PACKET, Interop.Packet.PACKET_IGNORE_OUTGOING, &on, sizeof(int)) != 0)
            NativeException.ThrowLast($"PACKET_IGNORE_OUTGOING on {Name}");
    }

    /// <summary>pcap_inject one frame (link header included). False on failure; read <see cref="PcapHandle.LastErrorMessage"/>.</summary>
    public bool TryInject(ReadOnlySpan<byte> frame)
    {
        fixed (byte* data = frame)
            return Interop.Pcap.Inject(Handle, data, (nuint)frame.Length) >= 0;
    }

    /// <summary>pcap_inject one frame; throws PcapException with pcap's text (e.g. "send: Message too long").</summary>
    public void Inject(ReadOnlySpan<byte> frame)
    {
        if (!TryInject(frame))
            throw new PcapException($"pcap_inject {frame.Length} bytes on {Name}", Interop.Pcap.PCAP_ERROR, LastErrorMessage);
    }

    /// <summary>pcap_stats.</summary>
    public PcapStatistics GetStatistics()
    {
        Interop.Pcap.Statistics stats;
        if (Interop.Pcap.Stats(Handle, &stats) != 0)
            throw new PcapException($"pcap_stats on {Name}", Interop.Pcap.PCAP_ERROR, LastErrorMessage);
        return new PcapStatistics(stats.Received, stats.Dropped, stats.InterfaceDropped);
    }

    private void Check(int rc, string operation)
    {
        if (rc != 0) throw new PcapException($"{operation} on {Name}", rc, StatusAndDetail(rc, LastErrorMessage));
    }

    private static string StatusAndDetail(int status, string detail)
    {
        string text = PcapLibrary.StatusText(status);
        return detail.Length == 0 || detail == text ? text : $"{text} ({detail})";
    }
}
