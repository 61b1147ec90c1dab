namespace Firewall.Native.Pcap;

/// <summary>Writes a pcap file with nanosecond timestamps (pcap_open_dead + pcap_dump_open + pcap_dump + pcap_dump_close).</summary>
public sealed unsafe class PcapDumpWriter : IDisposable
{
    private nint _dead;
    private nint _dumper;

    private PcapDumpWriter(nint dead, nint dumper, string path)
    {
        _dead = dead;
        _dumper = dumper;
        Path = path;
    }

    ~PcapDumpWriter() => Close();

    public string Path { get; }

    /// <param name="dataLinkType">LINKTYPE number of the frames (1 = Ethernet, 101 = raw IP).</param>
    public static PcapDumpWriter Create(string path, int dataLinkType = 1, int snapLength = 65535)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        PcapLibrary.EnsureInitialized();
        nint dead = Interop.Pcap.OpenDead(dataLinkType, snapLength, Interop.Pcap.PCAP_TSTAMP_PRECISION_NANO);
        if (dead == 0) throw new PcapException($"pcap_open_dead linktype {dataLinkType}", Interop.Pcap.PCAP_ERROR, "");
        nint dumper = Interop.Pcap.DumpOpen(dead, path);
        if (dumper == 0)
        {
            string message = PcapLibrary.HandleError(dead);
            Interop.Pcap.Close(dead);
            throw new PcapException($"pcap_dump_open {path}", Interop.Pcap.PCAP_ERROR, message);
        }
        return new PcapDumpWriter(dead, dumper, path);
    }

    /// <summary>Appends one frame. originalLength defaults to data.Length (pass more to record a truncated frame).</summary>
    public void Write(ReadOnlySpan<byte> data, long timestampNanoseconds, int originalLength = -1)
    {
        nint dumper = _dumper;
        ObjectDisposedException.ThrowIf(dumper == 0, this);
        var header = new Interop.Pcap.PacketHeader
        {
            Seconds = Math.DivRem(timestampNanoseconds, 1_000_000_000L, out long nanoseconds),
            SubSeconds = nanoseconds,
            CapturedLength = (uint)data.Length,
            Length = (uint)(originalLength < 0 ? data.Length : originalLength),
        };
        fixed (byte* bytes = data)
            Interop.Pcap.Dump(dumper, &header, bytes);
    }

    public void Flush()
    {
        nint dumper = _dumper;
        ObjectDisposedException.ThrowIf(dumper == 0, this);
        if (Interop.Pcap.DumpFlush(dumper) != 0) throw new IOException($"pcap_dump_flush {Path} failed");
    }

    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    private void Close()
    {
        nint dumper = Interlocked.Exchange(ref _dumper, 0);
        if (dumper != 0) Interop.Pcap.DumpClose(dumper);
        nint dead = Interlocked.Exchange(ref _dead, 0);
        if (dead != 0) Interop.Pcap.Close(dead);
    }
}
