using System.Numerics;
using System.Runtime.InteropServices;
using Firewall.Native.Interfaces;

namespace Firewall.Native.Sockets;

/// <summary>
/// A transmit-only AF_PACKET socket bound to one interface, with a memory-mapped TPACKET_V2 transmit ring: frames
/// (link header included) are copied into ring slots by <see cref="TryQueue"/> and handed to the driver together by
/// one send() in <see cref="Flush"/>, instead of one send() per frame as pcap_inject does. The socket was opened with
/// protocol 0, so it receives nothing. Optionally PACKET_QDISC_BYPASS (straight to the driver: no queueing
/// discipline, and taps such as tcpdump on the interface do not see the frames; a full driver queue drops them).
/// Optionally a flush of a single frame sends a copy of it through a second, plain socket on the interface and takes
/// the slot back (see <see cref="Open"/>). One producer thread at a time; needs CAP_NET_RAW.
/// </summary>
public sealed unsafe class PacketTxRing : IDisposable
{
    private const int EthernetHeader = 14;
    private const int VlanTag = 4;

    private int _fd = -1;
    // the plain socket for single-frame flushes, or -1
    private int _copyFd = -1;
    private byte* _ring;
    private nuint _ringBytes;
    private readonly int _frameSize, _frameCount;
    private int _next, _pending;

    private PacketTxRing(string interfaceName, int mtu, int frameSize, int frameCount)
    {
        Interface = interfaceName;
        Mtu = mtu;
        _frameSize = frameSize;
        _frameCount = frameCount;
    }

    public string Interface { get; }
    /// <summary>The interface MTU when opened: frames up to MTU + 14 bytes (+ 4 when VLAN-tagged) are accepted.</summary>
    public int Mtu { get; }
    /// <summary>Frames queued and not yet flushed.</summary>
    public int Pending => _pending;

    /// <summary>Frames refused because they were longer than the MTU allows or shorter than an Ethernet header.</summary>
    public long WrongSize;
    /// <summary>Frames refused because every slot was still being sent.</summary>
    public long RingFull;
    /// <summary>Flushes of a single frame sent as a copy through the plain socket (with <c>copySingle</c>).</summary>
    public long SingleCopies;

    /// <summary>
    /// Opens the socket and its ring on <paramref name="interfaceName"/> (of the calling thread's namespace). Throws
    /// NativeException. With <paramref name="copySingle"/>, a flush of one frame sends a copy of it with a plain send()
    /// on a second socket and frees the slot at once, instead of handing the kernel the slot: the kernel builds a
    /// frame sent from the ring around the ring's pages (zero-copy) and one sent plainly as a single buffer, and at
    /// light load, where every batch is one frame, the zero-copy frame's way through a veth pair was measured taking
    /// p50 14 µs against 1 µs (docs/benchmarks-datapaths.md). Batches of two or more still go through the ring.
    /// </summary>
    public static PacketTxRing Open(string interfaceName, int frameCount = 1024, bool qdiscBypass = false, bool copySingle = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (frameCount < 8 || !BitOperations.IsPow2(frameCount))
            throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "a power of two, at least 8");
        uint index = NetDevice.GetIndex(interfaceName);
        if (index == 0) NativeException.Throw($"AF_PACKET transmit ring on {interfaceName}", Interop.Errno.ENODEV);
        int mtu = NetDevice.GetMtu(interfaceName);
        // a slot holds the 32-byte tpacket2_hdr and the frame; slots are powers of two so they tile the blocks
        int frameSize = (int)BitOperations.RoundUpToPowerOf2((uint)(Interop.Packet.Tpacket2DataOffset + EthernetHeader + VlanTag + mtu));
        frameSize = Math.Max(frameSize, 2048);
        var ring = new PacketTxRing(interfaceName, mtu, frameSize, frameCount);
        try
        {
            ring.Create((int)index, qdiscBypass);
            if (copySingle) ring.CreateCopySocket((int)index, qdiscBypass);
            return ring;
        }
        catch
        {
            ring.Dispose();
            throw;
        }
    }

    private void Create(int ifIndex, bool qdiscBypass)
    {
        string what = $"AF_PACKET transmit ring on {Interface}";
        _fd = OpenSocket(what);
        SetInt(_fd, Interop.Packet.PACKET_VERSION, Interop.Packet.TPACKET_V2, $"{what}: PACKET_VERSION");
        // a frame the kernel cannot send (it should not happen: lengths are checked here) is skipped, not left blocking the ring
        SetInt(_fd, Interop.Packet.PACKET_LOSS, 1, $"{what}: PACKET_LOSS");
        if (qdiscBypass) SetInt(_fd, Interop.Packet.PACKET_QDISC_BYPASS, 1, $"{what}: PACKET_QDISC_BYPASS");

        // blocks of up to 64 KiB (powers of two, so frames tile them exactly: frame_nr = block_nr × frames per block)
        int blockSize = (int)Math.Max(_frameSize, Math.Min(64 * 1024, (long)_frameCount * _frameSize));
        var request = new Interop.Packet.TpacketReq
        {
            BlockSize = (uint)blockSize,
            BlockCount = (uint)((long)_frameCount * _frameSize / blockSize),
            FrameSize = (uint)_frameSize,
            FrameCount = (uint)_frameCount,
        };
        if (Interop.Socket.SetOption(_fd, Interop.Packet.SOL_PACKET, Interop.Packet.PACKET_TX_RING, &request, (uint)sizeof(Interop.Packet.TpacketReq)) != 0)
            NativeException.ThrowLast($"{what}: PACKET_TX_RING");
        _ringBytes = (nuint)request.BlockCount * request.BlockSize;
        nint map = Interop.Packet.Mmap(null, _ringBytes, Interop.Packet.PROT_READ | Interop.Packet.PROT_WRITE, Interop.Packet.MAP_SHARED, _fd, 0);
        if (map == Interop.Packet.MAP_FAILED) NativeException.ThrowLast($"{what}: mmap");
        _ring = (byte*)map;
        Bind(_fd, ifIndex, what);
    }

    private void CreateCopySocket(int ifIndex, bool qdiscBypass)
    {
        string what = $"AF_PACKET socket for single frames on {Interface}";
        _copyFd = OpenSocket(what);
        if (qdiscBypass) SetInt(_copyFd, Interop.Packet.PACKET_QDISC_BYPASS, 1, $"{what}: PACKET_QDISC_BYPASS");
        Bind(_copyFd, ifIndex, what);
    }

    /// <summary>An AF_PACKET raw socket opened with protocol 0, so it receives nothing; it sends once bound.</summary>
    private static int OpenSocket(string what)
    {
        int fd = Interop.Socket.Create(Interop.Packet.AF_PACKET, Interop.Socket.SOCK_RAW | Interop.Socket.SOCK_CLOEXEC, 0);
        if (fd < 0) NativeException.ThrowLast($"{what}: socket");
        return fd;
    }

    private static void Bind(int fd, int ifIndex, string what)
    {
        var address = new Interop.Packet.SockAddrLl { Family = Interop.Packet.AF_PACKET, IfIndex = ifIndex };
        if (Interop.Socket.Bind(fd, &address, (uint)sizeof(Interop.Packet.SockAddrLl)) != 0)
            NativeException.ThrowLast($"{what}: bind");
    }

    private static void SetInt(int fd, int option, int value, string what)
    {
        if (Interop.Socket.SetOption(fd, Interop.Packet.SOL_PACKET, option, &value, sizeof(int)) != 0)
            NativeException.ThrowLast(what);
    }

    /// <summary>
    /// Copies one frame into the next free slot (flushing first when the ring is full). False when the frame has the
    /// wrong size for this interface (<see cref="WrongSize"/>) or no slot came free (<see cref="RingFull"/>).
    /// </summary>
    public bool TryQueue(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < EthernetHeader || frame.Length > MaxLength(frame))
        {
            WrongSize++;
            return false;
        }
        byte* slot = _ring + (nint)_next * _frameSize;
        var header = (Interop.Packet.Tpacket2Hdr*)slot;
        if (Volatile.Read(ref header->Status) != Interop.Packet.TP_STATUS_AVAILABLE)
        {
            if (_pending > 0) Flush();
            if (Volatile.Read(ref header->Status) != Interop.Packet.TP_STATUS_AVAILABLE)
            {
                RingFull++;
                return false;
            }
        }
        frame.CopyTo(new Span<byte>(slot + Interop.Packet.Tpacket2DataOffset, _frameSize - Interop.Packet.Tpacket2DataOffset));
        header->Len = (uint)frame.Length;
        Volatile.Write(ref header->Status, Interop.Packet.TP_STATUS_SEND_REQUEST);
        _next = (_next + 1) & (_frameCount - 1);
        _pending++;
        return true;
    }

    /// <summary>MTU + Ethernet header, plus 4 for an 802.1Q/802.1ad tag (the kernel allows that much for tagged frames).</summary>
    private int MaxLength(ReadOnlySpan<byte> frame)
    {
        int max = Mtu + EthernetHeader;
        if (frame.Length >= EthernetHeader)
        {
            int type = (frame[12] << 8) | frame[13];
            if (type is 0x8100 or 0x88A8) max += VlanTag;
        }
        return max;
    }

    /// <summary>
    /// Sends every queued frame with one send(). Returns 0, or the errno when the kernel refused (ENETDOWN/ENXIO when
    /// the interface went down, EAGAIN/ENOBUFS under memory pressure); refused frames stay queued for the next flush.
    /// </summary>
    public int Flush()
    {
        if (_pending == 0) return 0;
        if (_pending == 1 && _copyFd >= 0) return SendCopy();
        nint rc = Interop.Socket.Send(_fd, null, 0, Interop.Socket.MSG_DONTWAIT);
        if (rc < 0) return Marshal.GetLastPInvokeError();
        _pending = 0;
        return 0;
    }

    /// <summary>
    /// Sends the one pending frame from its slot with a plain send() and gives the slot back. The kernel reads the
    /// ring only inside a send() on the ring's socket, so a slot marked for sending and not yet flushed is still ours:
    /// its status goes back to available and the next frame takes it again, where the kernel's own position is.
    /// </summary>
    private int SendCopy()
    {
        int slotIndex = (_next - 1) & (_frameCount - 1);
        byte* slot = _ring + (nint)slotIndex * _frameSize;
        var header = (Interop.Packet.Tpacket2Hdr*)slot;
        nint rc = Interop.Socket.Send(_copyFd, slot + Interop.Packet.Tpacket2DataOffset, header->Len, Interop.Socket.MSG_DONTWAIT);
        if (rc < 0) return Marshal.GetLastPInvokeError(); // still queued in the ring: the next flush retries
        Volatile.Write(ref header->Status, Interop.Packet.TP_STATUS_AVAILABLE);
        _next = slotIndex;
        _pending = 0;
        SingleCopies++;
        return 0;
    }

    public void Dispose()
    {
        if (_copyFd >= 0)
        {
            Interop.Libc.Close(_copyFd);
            _copyFd = -1;
        }
        if (_ring != null)
        {
            Interop.Packet.Munmap(_ring, _ringBytes);
            _ring = null;
        }
        if (_fd >= 0)
        {
            Interop.Libc.Close(_fd);
            _fd = -1;
        }
    }
}
