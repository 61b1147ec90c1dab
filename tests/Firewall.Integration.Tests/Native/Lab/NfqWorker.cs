using System.Buffers.Binary;
using System.Runtime.ExceptionServices;
using Firewall.Native.Netlink;

namespace Firewall.Integration.Tests.Native.Lab;

/// <summary>A receive/verdict loop on a dedicated thread that records what it saw into preallocated storage.</summary>
internal sealed class NfqWorker
{
    public enum Policy { AcceptEach, DropEach, AcceptDeferred, AcceptWithMark }

    public readonly record struct Seen(uint Id, NfHook Hook, ushort HardwareProtocol, uint InIndex, uint OutIndex,
        byte IpVersion, byte IpProtocol, uint Destination, byte IcmpType, int Length);

    private readonly NfQueue _queue;
    private readonly Policy _policy;
    private readonly uint _mark;
    private readonly Seen[] _seen = new Seen[4096];
    private readonly Thread _thread;
    private int _count;
    private ExceptionDispatchInfo? _error;

    public NfqWorker(NfQueue queue, Policy policy, uint mark = 0)
    {
        _queue = queue;
        _policy = policy;
        _mark = mark;
        _thread = new Thread(Loop) { IsBackground = true, Name = "nfq worker" };
        _thread.Start();
    }

    /// <summary>Bytes this loop allocated after its first verdict (steady state).</summary>
    public long AllocatedAfterFirstPacket { get; private set; }

    public Seen[] Packets => _seen[..Volatile.Read(ref _count)];

    /// <summary>Stops the loop (within 5 s) and rethrows what it threw.</summary>
    public void Stop()
    {
        _queue.RequestStop();
        if (!_thread.Join(5000)) throw new TimeoutException("NFQUEUE worker did not stop within 5 s of RequestStop");
        _error?.Throw();
    }

    private void Loop()
    {
        try
        {
            long start = 0;
            bool first = true;
            while (_queue.Receive(out NfqMessageReader reader) == NfqReceiveResult.Received)
            {
                while (reader.TryReadPacket(out NfqPacket packet))
                {
                    Record(packet);
                    switch (_policy)
                    {
                        case Policy.AcceptEach: _queue.SetVerdict(packet.PacketId, NfVerdict.Accept); break;
                        case Policy.DropEach: _queue.SetVerdict(packet.PacketId, NfVerdict.Drop); break;
                        case Policy.AcceptDeferred: _queue.AcceptDeferred(packet.PacketId); break;
                        case Policy.AcceptWithMark: _queue.SetVerdict(packet.PacketId, NfVerdict.Accept, _mark); break;
                    }
                    if (first)
                    {
                        first = false;
                        start = GC.GetAllocatedBytesForCurrentThread();
                    }
                }
            }
            AllocatedAfterFirstPacket = first ? 0 : GC.GetAllocatedBytesForCurrentThread() - start;
        }
        catch (Exception e)
        {
            _error = ExceptionDispatchInfo.Capture(e);
        }
    }

    private void Record(in NfqPacket packet)
    {
        ReadOnlySpan<byte> ip = packet.Payload;
        int n = _count;
        if (n >= _seen.Length) return;
        byte version = ip.Length > 0 ? (byte)(ip[0] >> 4) : (byte)0;
        bool v4 = version == 4 && ip.Length >= 20;
        int headerLength = v4 ? (ip[0] & 0xf) * 4 : 0;
        _seen[n] = new Seen(packet.PacketId, packet.Hook, packet.HardwareProtocol, packet.InInterfaceIndex,
            packet.OutInterfaceIndex, version, v4 ? ip[9] : (byte)0, v4 ? BinaryPrimitives.ReadUInt32BigEndian(ip[16..]) : 0,
            v4 && ip.Length > headerLength ? ip[headerLength] : (byte)0, ip.Length);
        Volatile.Write(ref _count, n + 1);
    }
}
