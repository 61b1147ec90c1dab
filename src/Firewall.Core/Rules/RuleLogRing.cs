using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Core.Rules;

/// <summary>One LOG target hit, copied out of the packet. Strings are references to the rule's and meta's strings.</summary>
public struct RuleLogRecord
{
    public long TimeNs;
    public int RuleId;
    /// <summary>The rule's <c>--log-prefix</c> (null when none).</summary>
    public string? Prefix;
    /// <summary>syslog level 0..7 (<c>--log-level</c>, default 4).</summary>
    public byte Level;
    public RuleTable Table;
    /// <summary>Name of the chain holding the LOG rule.</summary>
    public string Chain;
    public string? InInterface, OutInterface;
    public byte Family;
    public byte Proto;
    public IpAddr Src, Dst;
    public ushort SrcPort, DstPort;
    public byte IcmpType, IcmpCode;
    public byte TcpFlags;
    public int Length;
    public CtState State;
}

/// <summary>
/// Bounded multi-producer ring of <see cref="RuleLogRecord"/>s (Vyukov's sequence-numbered slots): writers
/// never block or allocate; when the ring is full or the rate limit is exceeded the record is counted and dropped.
/// The daemon drains it with <see cref="TryRead"/>.
/// </summary>
public sealed class RuleLogRing
{
    private struct Slot
    {
        public long Sequence;
        public RuleLogRecord Record;
    }

    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly TokenBucket? _rate;
    private long _head;
    private long _tail;
    private long _droppedFull;
    private long _droppedRate;

    /// <param name="capacity">Rounded up to a power of two.</param>
    /// <param name="ratePerSecond">Records accepted per second (0 = unlimited).</param>
    /// <param name="burst">Records accepted at once before the rate applies.</param>
    public RuleLogRing(int capacity = 1024, int ratePerSecond = 100, int burst = 50)
    {
        int cap = 1;
        while (cap < Math.Max(2, capacity)) cap <<= 1;
        _slots = new Slot[cap];
        for (int i = 0; i < cap; i++) _slots[i].Sequence = i;
        _mask = cap - 1;
        if (ratePerSecond > 0) _rate = new TokenBucket(1_000_000_000L / ratePerSecond, Math.Max(1, burst));
    }

    public int Capacity => _slots.Length;
    /// <summary>Records lost because the ring was full.</summary>
    public long DroppedFull => Volatile.Read(ref _droppedFull);
    /// <summary>Records suppressed by the rate limit.</summary>
    public long DroppedRate => Volatile.Read(ref _droppedRate);

    public bool TryWrite(in RuleLogRecord record)
    {
        if (_rate is not null && !_rate.TryTake(record.TimeNs))
        {
            Interlocked.Increment(ref _droppedRate);
            return false;
        }
        long pos = Volatile.Read(ref _tail);
        while (true)
        {
            ref Slot slot = ref _slots[pos & _mask];
            long seq = Volatile.Read(ref slot.Sequence);
            long diff = seq - pos;
            if (diff == 0)
            {
                long seen = Interlocked.CompareExchange(ref _tail, pos + 1, pos);
                if (seen == pos)
                {
                    slot.Record = record;
                    Volatile.Write(ref slot.Sequence, pos + 1);
                    return true;
                }
                pos = seen;
            }
            else if (diff < 0)
            {
                Interlocked.Increment(ref _droppedFull);
                return false;
            }
            else pos = Volatile.Read(ref _tail);
        }
    }

    /// <summary>Takes the oldest record; false when empty. Safe from several readers.</summary>
    public bool TryRead(out RuleLogRecord record)
    {
        long pos = Volatile.Read(ref _head);
        while (true)
        {
            ref Slot slot = ref _slots[pos & _mask];
            long seq = Volatile.Read(ref slot.Sequence);
            long diff = seq - (pos + 1);
            if (diff == 0)
            {
                long seen = Interlocked.CompareExchange(ref _head, pos + 1, pos);
                if (seen == pos)
                {
                    record = slot.Record;
                    slot.Record = default;
                    Volatile.Write(ref slot.Sequence, pos + _slots.Length);
                    return true;
                }
                pos = seen;
            }
            else if (diff < 0)
            {
                record = default;
                return false;
            }
            else pos = Volatile.Read(ref _head);
        }
    }
}
