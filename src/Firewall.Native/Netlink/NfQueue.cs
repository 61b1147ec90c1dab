using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firewall.Native.Netlink;

/// <summary>
/// One NFQUEUE queue over a raw NETLINK_NETFILTER socket (created in the calling thread's network namespace).
/// One thread receives and issues verdicts; <see cref="RequestStop"/> may be called from any thread.
/// <para>
/// Deferred accepts (<see cref="AcceptDeferred"/>) are sent as one NFQNL_MSG_VERDICT_BATCH covering every id up to
/// the highest one, so they assume verdicts are given in packet-id order: do not hold a packet back while deferring
/// accepts of later ones.
/// </para>
/// </summary>
public sealed unsafe class NfQueue : IDisposable
{
    private readonly NfQueueOptions _options;
    private readonly StopEvent _stop;
    private readonly bool _ownsStop;
    private int _fd;
    private byte* _buffer;
    private readonly int _bufferSize;
    private uint _sequence;

    private uint _pendingAcceptId;
    private int _pendingAccepts;

    private long _datagrams, _noBufferErrors, _malformed, _errorMessages, _singleVerdicts, _batchVerdicts, _requeued;
    private int _lastErrno;

    private NfQueue(ushort queueNumber, NfQueueOptions options, StopEvent? stop)
    {
        QueueNumber = queueNumber;
        _options = options;
        _ownsStop = stop is null;
        _stop = stop ?? new StopEvent();
        _bufferSize = Math.Max(options.ReceiveBufferBytes, 4096);
        _buffer = (byte*)NativeMemory.Alloc((nuint)_bufferSize);
        _fd = -1;
    }

    public ushort QueueNumber { get; }

    /// <summary>Effective kernel receive buffer (SO_RCVBUF as reported: the kernel doubles what was asked).</summary>
    public int SocketReceiveBufferBytes { get; private set; }

    public int DeferredAccepts => _pendingAccepts;

    public NfQueueCounters Counters => new(_datagrams, _noBufferErrors, _malformed, _errorMessages, _lastErrno,
        _singleVerdicts, _batchVerdicts, _requeued);

    /// <summary>
    /// Opens a socket, binds the queue and applies copy mode PACKET, the queue length and the flags — each as its own
    /// ACK-checked request, so a failure names the step and carries the kernel's errno (NativeException).
    /// A second binder of the same queue gets EPERM. stop: an event shared with other readers (default: private).
    /// </summary>
    public static NfQueue Open(ushort queueNumber, NfQueueOptions? options = null, StopEvent? stop = null)
    {
        var queue = new NfQueue(queueNumber, options ?? new NfQueueOptions(), stop);
        try
        {
            queue.OpenSocket();
            queue.Bind();
            queue.SetCopyMode(queue._options.CopyRange);
            queue.SetMaxQueueLength(queue._options.MaxQueueLength);
            if (queue._options.Flags != NfQueueFlags.None || queue._options.FlagsMask is not null)
                queue.SetFlags(queue._options.Flags, queue._options.FlagsMask ?? queue._options.Flags);
            return queue;
        }
        catch
        {
            queue.Dispose();
            throw;
        }
    }

    private void OpenSocket()
    {
        _fd = Interop.Socket.Create(Interop.Socket.AF_NETLINK, Interop.Socket.SOCK_RAW | Interop.Socket.SOCK_CLOEXEC,
            Interop.Netlink.NETLINK_NETFILTER);
        if (_fd < 0) NativeException.ThrowLast("socket(AF_NETLINK, NETLINK_NETFILTER)");

        var address = new Interop.Netlink.SockAddrNl { Family = Interop.Socket.AF_NETLINK };
        if (Interop.Socket.Bind(_fd, &address, (uint)sizeof(Interop.Netlink.SockAddrNl)) != 0)
            NativeException.ThrowLast("bind netlink socket");

        if (_options.SocketReceiveBufferBytes > 0)
        {
            int size = _options.SocketReceiveBufferBytes;
            if (Interop.Socket.SetOption(_fd, Interop.Socket.SOL_SOCKET, Interop.Socket.SO_RCVBUFFORCE, &size, sizeof(int)) != 0 &&
                Interop.Socket.SetOption(_fd, Interop.Socket.SOL_SOCKET, Interop.Socket.SO_RCVBUF, &size, sizeof(int)) != 0)
                NativeException.ThrowLast($"setsockopt SO_RCVBUF {size}");
        }
        int actual = 0;
        uint actualLength = sizeof(int);
        if (Interop.Socket.GetOption(_fd, Interop.Socket.SOL_SOCKET, Interop.Socket.SO_RCVBUF, &actual, &actualLength) == 0)
            SocketReceiveBufferBytes = actual;

        if (_options.SuppressNoBufferErrors)
        {
            int on = 1;
            if (Interop.Socket.SetOption(_fd, Interop.Netlink.SOL_NETLINK, Interop.Netlink.NETLINK_NO_ENOBUFS, &on, sizeof(int)) != 0)
                NativeException.ThrowLast("setsockopt NETLINK_NO_ENOBUFS");
        }
    }

    private void Bind() => SendCommand(Interop.NfQueue.NFQNL_CFG_CMD_BIND, "BIND");

    /// <summary>NFQA_CFG_PARAMS: copy mode PACKET with the given range.</summary>
    public void SetCopyMode(uint copyRange)
    {
        var writer = BeginConfig(stackalloc byte[64]);
        Span<byte> parameters = writer.AddAttribute(Interop.NfQueue.NFQA_CFG_PARAMS, 5);
        BinaryPrimitives.WriteUInt32BigEndian(parameters, copyRange);
        parameters[4] = Interop.NfQueue.NFQNL_COPY_PACKET;
        Configure(writer.Finish(), $"PARAMS copy-packet range {copyRange}");
    }

    public void SetMaxQueueLength(uint maxLength)
    {
        var writer = BeginConfig(stackalloc byte[64]);
        writer.AddUInt32BigEndian(Interop.NfQueue.NFQA_CFG_QUEUE_MAXLEN, maxLength);
        Configure(writer.Finish(), $"QUEUE_MAXLEN {maxLength}");
    }

    /// <summary>NFQA_CFG_FLAGS with NFQA_CFG_MASK (FLAGS alone is EINVAL). Unsupported bits fail the whole request.</summary>
    public void SetFlags(NfQueueFlags flags, NfQueueFlags mask)
    {
        var writer = BeginConfig(stackalloc byte[64]);
        writer.AddUInt32BigEndian(Interop.NfQueue.NFQA_CFG_FLAGS, (uint)flags);
        writer.AddUInt32BigEndian(Interop.NfQueue.NFQA_CFG_MASK, (uint)mask);
        Configure(writer.Finish(), $"FLAGS {flags} mask {mask}");
    }

    private void SendCommand(byte command, string what)
    {
        var writer = BeginConfig(stackalloc byte[64]);
        Span<byte> cmd = writer.AddAttribute(Interop.NfQueue.NFQA_CFG_CMD, 4);
        cmd[0] = command; // then pad byte and be16 pf = 0
        Configure(writer.Finish(), what);
    }

    private NetlinkMessageWriter BeginConfig(Span<byte> buffer) =>
        new(buffer, Interop.NfQueue.MessageType(Interop.NfQueue.NFQNL_MSG_CONFIG),
            Interop.Netlink.NLM_F_REQUEST | Interop.Netlink.NLM_F_ACK, ++_sequence, QueueNumber);

    /// <summary>Sends one request and waits for its ACK. Packets arriving meanwhile are handed back with NF_REPEAT.</summary>
    private void Configure(ReadOnlySpan<byte> message, string what)
    {
        string operation = $"NFQUEUE {QueueNumber} {what}";
        uint sequence = MemoryMarshal.Read<Interop.Netlink.NlMsgHdr>(message).Sequence;
        if (!TrySend(message, out int errno)) NativeException.Throw(operation, errno);

        long deadline = Environment.TickCount64 + _options.ConfigTimeoutMilliseconds;
        while (true)
        {
            int remaining = (int)Math.Max(0, deadline - Environment.TickCount64);
            nint n = Interop.Socket.Receive(Fd, _buffer, (nuint)_bufferSize, Interop.Socket.MSG_DONTWAIT);
            if (n < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Errno.EINTR) continue;
                if (errno == Interop.Errno.ENOBUFS)
                {
                    _noBufferErrors++;
                    continue;
                }
                if (errno != Interop.Errno.EAGAIN) NativeException.Throw($"{operation}: recv", errno);
                if (remaining == 0 || WaitReadable(remaining) == 0)
                    throw new TimeoutException($"{operation}: no ACK from the kernel within {_options.ConfigTimeoutMilliseconds} ms");
                continue;
            }

            var reader = new NfqMessageReader(new ReadOnlySpan<byte>(_buffer, (int)n));
            while (reader.TryReadMessage(out ushort type, out ReadOnlySpan<byte> reply))
            {
                if (type == Interop.Netlink.NLMSG_ERROR && NfqMessageReader.SequenceOf(reply) == sequence)
                {
                    int error = NfqMessageReader.ErrorOf(reply);
                    if (error != 0) NativeException.Throw(operation, error);
                    return;
                }
                if (type == Interop.NfQueue.MessageType(Interop.NfQueue.NFQNL_MSG_PACKET) &&
                    NfqMessageReader.TryParsePacket(reply, out NfqPacket packet))
                {
                    SetVerdict(packet.PacketId, NfVerdict.Repeat);
                    _requeued++;
                }
            }
        }
    }

    /// <summary>Plain poll on the socket (ignores the stop event: configuration always completes or times out).</summary>
    private int WaitReadable(int timeoutMilliseconds)
    {
        var pollFd = new Interop.Poll.PollFd { Fd = Fd, Events = Interop.Poll.POLLIN };
        int rc = Interop.Poll.Wait(&pollFd, 1, timeoutMilliseconds);
        return rc < 0 ? 1 : rc; // EINTR: let recv try again
    }

    /// <summary>
    /// Waits for the next datagram (or stop, or timeout; -1 = no timeout). When nothing is queued it first flushes
    /// deferred accepts, so batching never adds latency. ENOBUFS is counted and reading goes on.
    /// The reader and its packets are valid until the next Receive.
    /// </summary>
    public NfqReceiveResult Receive(out NfqMessageReader packets, int timeoutMilliseconds = -1)
    {
        while (!_stop.IsSet)
        {
            nint n = Interop.Socket.Receive(Fd, _buffer, (nuint)_bufferSize, Interop.Socket.MSG_DONTWAIT);
            if (n > 0)
            {
                _datagrams++;
                var span = new ReadOnlySpan<byte>(_buffer, (int)n);
                CountErrors(span);
                packets = new NfqMessageReader(span);
                return NfqReceiveResult.Received;
            }

            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Interop.Errno.EAGAIN;
            if (errno == Interop.Errno.ENOBUFS)
            {
                _noBufferErrors++;
                continue;
            }
            if (errno == Interop.Errno.EINTR) continue;
            if (errno != Interop.Errno.EAGAIN) NativeException.Throw($"NFQUEUE {QueueNumber} recv", errno);

            if (_pendingAccepts > 0) FlushDeferredAccepts();
            WaitResult wait = _stop.Wait(Fd, timeoutMilliseconds);
            if (wait == WaitResult.Timeout)
            {
                packets = default;
                return NfqReceiveResult.Timeout;
            }
        }
        packets = default;
        return NfqReceiveResult.Stopped;
    }

    private void CountErrors(ReadOnlySpan<byte> datagram)
    {
        var scan = new NfqMessageReader(datagram);
        while (scan.TryReadMessage(out ushort type, out ReadOnlySpan<byte> message))
        {
            if (type != Interop.Netlink.NLMSG_ERROR) continue;
            int errno = NfqMessageReader.ErrorOf(message);
            if (errno == 0) continue;
            _errorMessages++;
            _lastErrno = errno;
        }
        _malformed += scan.Malformed;
    }

    /// <summary>Sends a verdict for one packet now.</summary>
    public void SetVerdict(uint packetId, NfVerdict verdict) => SendVerdict(Interop.NfQueue.NFQNL_MSG_VERDICT, packetId, verdict, false, 0);

    /// <summary>Sends a verdict for one packet now and sets its mark.</summary>
    public void SetVerdict(uint packetId, NfVerdict verdict, uint mark) => SendVerdict(Interop.NfQueue.NFQNL_MSG_VERDICT, packetId, verdict, true, mark);

    /// <summary>NFQNL_MSG_VERDICT_BATCH: the verdict applies to every still-queued packet with id &lt;= maxPacketId.</summary>
    public void SetVerdictBatch(uint maxPacketId, NfVerdict verdict) => SendVerdict(Interop.NfQueue.NFQNL_MSG_VERDICT_BATCH, maxPacketId, verdict, false, 0);

    /// <summary>
    /// Records an accept to send later as part of one batch verdict: when <see cref="NfQueueOptions.AcceptBatchSize"/>
    /// are pending, when Receive finds the queue idle, or on <see cref="FlushDeferredAccepts"/>.
    /// </summary>
    public void AcceptDeferred(uint packetId)
    {
        _pendingAcceptId = packetId;
        if (++_pendingAccepts >= _options.AcceptBatchSize) FlushDeferredAccepts();
    }

    public void FlushDeferredAccepts()
    {
        if (_pendingAccepts == 0) return;
        _pendingAccepts = 0;
        SetVerdictBatch(_pendingAcceptId, NfVerdict.Accept);
    }

    private void SendVerdict(byte messageType, uint packetId, NfVerdict verdict, bool withMark, uint mark)
    {
        Span<byte> buffer = stackalloc byte[Interop.NfQueue.VerdictMessageSize + Interop.NfQueue.MarkAttributeSize];
        var writer = new NetlinkMessageWriter(buffer, Interop.NfQueue.MessageType(messageType), Interop.Netlink.NLM_F_REQUEST, 0, QueueNumber);
        Span<byte> header = writer.AddAttribute(Interop.NfQueue.NFQA_VERDICT_HDR, 8);
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)verdict);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], packetId);
        if (withMark) writer.AddUInt32BigEndian(Interop.NfQueue.NFQA_MARK, mark);
        if (!TrySend(writer.Finish(), out int errno)) ThrowVerdictFailed(packetId, errno);
        if (messageType == Interop.NfQueue.NFQNL_MSG_VERDICT_BATCH) _batchVerdicts++;
        else _singleVerdicts++;
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowVerdictFailed(uint packetId, int errno) => NativeException.Throw($"NFQUEUE {QueueNumber} verdict for packet {packetId}", errno);

    private bool TrySend(ReadOnlySpan<byte> message, out int errno)
    {
        fixed (byte* data = message)
        {
            while (Interop.Socket.Send(Fd, data, (nuint)message.Length, 0) < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR) return false;
            }
        }
        errno = 0;
        return true;
    }

    /// <summary>Makes a blocked or later Receive return Stopped. Any thread.</summary>
    public void RequestStop() => _stop.Set();

    private int Fd
    {
        get
        {
            int fd = _fd;
            ObjectDisposedException.ThrowIf(fd < 0, this);
            return fd;
        }
    }

    /// <summary>Flushes deferred accepts, unbinds (best effort) and closes. Call after the receiving thread stopped.</summary>
    public void Dispose()
    {
        if (_fd >= 0)
        {
            try
            {
                FlushDeferredAccepts();
                SendCommand(Interop.NfQueue.NFQNL_CFG_CMD_UNBIND, "UNBIND");
            }
            catch (Exception e) when (e is NativeException or TimeoutException)
            {
                // Closing the socket unbinds too; packets still queued are dropped by the kernel.
            }
            Interop.Libc.Close(_fd);
            _fd = -1;
        }
        if (_buffer != null)
        {
            NativeMemory.Free(_buffer);
            _buffer = null;
        }
        if (_ownsStop) _stop.Dispose();
    }
}
