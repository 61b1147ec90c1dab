using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Firewall.Native.Pcap;

/// <summary>
/// What live devices and capture files share: filter, pcap_next_ex, pcap_dispatch, breakloop, close.
/// One thread reads a handle; only <see cref="BreakLoop"/> may be called from another thread.
/// Dispose only after the reading thread has stopped.
/// </summary>
public abstract unsafe class PcapHandle : IDisposable
{
    /// <summary>Returned by <see cref="Dispatch"/> after <see cref="BreakLoop"/> (PCAP_ERROR_BREAK).</summary>
    public const int LoopBroken = Interop.Pcap.PCAP_ERROR_BREAK;

    private nint _pcap;
    private PcapDispatchContext* _context;

    // libpcap 1.10.3 in immediate mode (TPACKET_V2) re-polls after its timeout instead of returning 0 while no frame
    // arrives, so a blocking read with a timeout could block forever. Such handles run non-blocking and we do the
    // waiting: poll on the selectable fd plus _breakSignal (set by BreakLoop), for _emulatedTimeout ms.
    private StopEvent? _breakSignal;
    private int _emulatedTimeout;

    private protected PcapHandle(nint pcap, string name)
    {
        _pcap = pcap;
        Name = name;
        _context = (PcapDispatchContext*)NativeMemory.AllocZeroed((nuint)sizeof(PcapDispatchContext));
        _context->Pcap = pcap;
        _context->Slot = PcapCallbackTable.Rent();
        _context->SubSecondToNanoseconds = 1000;
    }

    ~PcapHandle() => Dispose(false);

    /// <summary>Device name or file path.</summary>
    public string Name { get; }

    /// <summary>pcap_datalink: LINKTYPE/DLT number (1 = Ethernet).</summary>
    public int DataLinkType => Interop.Pcap.DataLink(Handle);

    public int SnapLength => Interop.Pcap.SnapLength(Handle);

    /// <summary>True when frame timestamps carry nanoseconds (else microseconds scaled to ns).</summary>
    public bool NanosecondTimestamps => Handle != 0 && _context->SubSecondToNanoseconds == 1;

    /// <summary>pcap_geterr: the last error text on this handle.</summary>
    public string LastErrorMessage => PcapLibrary.HandleError(Handle);

    private protected nint Handle
    {
        get
        {
            nint pcap = _pcap;
            ObjectDisposedException.ThrowIf(pcap == 0, this);
            return pcap;
        }
    }

    /// <summary>Switches to the emulated timeout described at _breakSignal (the handle must already be non-blocking).</summary>
    private protected void EmulateTimeout(int timeoutMilliseconds)
    {
        _breakSignal ??= new StopEvent();
        _emulatedTimeout = timeoutMilliseconds;
    }

    private protected void StopEmulatingTimeout() => _emulatedTimeout = 0;

    private protected int SelectableFd
    {
        get
        {
            int fd = Interop.Pcap.GetSelectableFd(Handle);
            if (fd < 0) throw new PcapException($"pcap_get_selectable_fd on {Name}", fd, "no selectable descriptor");
            return fd;
        }
    }

    /// <summary>For an emulated-timeout handle with nothing buffered: waits; false means "return timeout/break now".</summary>
    private bool WaitForEmulatedTimeout(out bool broken)
    {
        WaitResult wait = _breakSignal!.Wait(SelectableFd, _emulatedTimeout);
        broken = wait == WaitResult.Stopped;
        if (broken) _breakSignal.Reset();
        return wait == WaitResult.Readable;
    }

    private protected void ReadTimestampPrecision() =>
        _context->SubSecondToNanoseconds =
            Interop.Pcap.GetTimestampPrecision(Handle) == Interop.Pcap.PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;

    /// <summary>Compiles and installs a BPF filter (tcpdump syntax); "" removes filtering.</summary>
    public void SetFilter(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        nint pcap = Handle;
        Interop.Pcap.BpfProgram program;
        if (Interop.Pcap.Compile(pcap, &program, expression, 1, Interop.Pcap.PCAP_NETMASK_UNKNOWN) != 0)
            throw new PcapException($"pcap_compile \"{expression}\" on {Name}", Interop.Pcap.PCAP_ERROR, PcapLibrary.HandleError(pcap));
        try
        {
            if (Interop.Pcap.SetFilter(pcap, &program) != 0)
                throw new PcapException($"pcap_setfilter on {Name}", Interop.Pcap.PCAP_ERROR, PcapLibrary.HandleError(pcap));
        }
        finally
        {
            Interop.Pcap.FreeCode(&program);
        }
    }

    /// <summary>pcap_next_ex. The frame borrows libpcap's buffer until the next read on this handle.</summary>
    public PcapReadResult ReadNext(out PcapFrame frame)
    {
        Interop.Pcap.PacketHeader* header = null;
        byte* data = null;
        int rc = TakeEmulatedBreak() ? Interop.Pcap.PCAP_ERROR_BREAK : Interop.Pcap.NextEx(Handle, &header, &data);
        if (rc == 0 && _emulatedTimeout > 0)
        {
            if (WaitForEmulatedTimeout(out bool broken)) rc = Interop.Pcap.NextEx(Handle, &header, &data);
            else if (broken) rc = Interop.Pcap.PCAP_ERROR_BREAK;
        }
        if (rc == 1)
        {
            frame = new PcapFrame(
                new ReadOnlySpan<byte>(data, (int)header->CapturedLength),
                header->Seconds * 1_000_000_000L + header->SubSeconds * _context->SubSecondToNanoseconds,
                (int)header->Length);
            return PcapReadResult.Frame;
        }
        frame = default;
        if (rc == 0) return PcapReadResult.Timeout;
        if (rc == Interop.Pcap.PCAP_ERROR_BREAK) return PcapReadResult.EndOrBreak;
        ThrowReadError("pcap_next_ex", rc);
        return default;
    }

    /// <summary>
    /// pcap_dispatch: hands every frame already buffered (up to maxFrames; -1 = all) to handler, zero-copy and
    /// allocation-free. Blocks up to the timeout when nothing is buffered (unless non-blocking).
    /// Returns the number of frames handled (0 on timeout, or at end of file), or <see cref="LoopBroken"/>.
    /// An exception thrown by handler stops the dispatch and is rethrown here.
    /// </summary>
    public int Dispatch(IPcapFrameHandler handler, int maxFrames = -1)
    {
        ArgumentNullException.ThrowIfNull(handler);
        nint pcap = Handle;
        PcapDispatchContext* context = _context;
        context->Count = 0;
        context->Faulted = 0;
        PcapCallbackTable.SetHandler(context->Slot, handler);
        int rc = TakeEmulatedBreak() ? LoopBroken : Interop.Pcap.Dispatch(pcap, maxFrames, PcapCallbackTable.Callback, (byte*)context);
        if (rc == 0 && _emulatedTimeout > 0)
        {
            if (WaitForEmulatedTimeout(out bool broken)) rc = Interop.Pcap.Dispatch(pcap, maxFrames, PcapCallbackTable.Callback, (byte*)context);
            else if (broken) rc = LoopBroken;
        }
        PcapCallbackTable.SetHandler(context->Slot, null);
        if (context->Faulted != 0) RethrowHandlerError(context->Slot);
        if (rc >= 0 || rc == LoopBroken) return rc;
        ThrowReadError("pcap_dispatch", rc);
        return rc;
    }

    /// <summary>pcap_breakloop: a blocked or later Dispatch/ReadNext returns LoopBroken/EndOrBreak (within ~1 ms). Any thread.</summary>
    public void BreakLoop()
    {
        // Emulated-timeout handles wait in our own poll, and libpcap's flag would linger into a later call.
        if (_emulatedTimeout > 0) _breakSignal!.Set();
        else Interop.Pcap.BreakLoop(Handle);
    }

    private bool TakeEmulatedBreak()
    {
        if (_emulatedTimeout == 0 || !_breakSignal!.IsSet) return false;
        _breakSignal.Reset();
        return true;
    }

    private static void RethrowHandlerError(int slot)
    {
        Exception? error = PcapCallbackTable.TakeError(slot);
        if (error is not null) ExceptionDispatchInfo.Throw(error);
    }

    private void ThrowReadError(string operation, int rc) =>
        throw new PcapException($"{operation} on {Name}", rc, PcapLibrary.HandleError(Handle));

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        nint pcap = Interlocked.Exchange(ref _pcap, 0);
        if (pcap != 0) Interop.Pcap.Close(pcap);
        if (disposing) _breakSignal?.Dispose();
        PcapDispatchContext* context = _context;
        _context = null;
        if (context != null)
        {
            PcapCallbackTable.Return(context->Slot);
            NativeMemory.Free(context);
        }
    }
}
