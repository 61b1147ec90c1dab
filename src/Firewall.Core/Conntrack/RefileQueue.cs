namespace Firewall.Core.Conntrack;

/// <summary>
/// Bounded multi-producer / single-consumer queue of entry indices (sequence-numbered cells, no locks, no allocation
/// after construction). Workers that shorten the timer of an entry owned by another worker post the entry here so the
/// owner re-files it in its wheel. A full queue refuses the item (the entry is then reaped when its old slot comes round).
/// </summary>
internal sealed class RefileQueue
{
    private readonly long[] _sequence;
    private readonly int[] _items;
    private readonly int _mask;
    private long _enqueue; // shared by producers
    private long _dequeue; // consumer only

    public RefileQueue(int capacity)
    {
        int size = 2;
        while (size < capacity) size <<= 1;
        _sequence = new long[size];
        _items = new int[size];
        _mask = size - 1;
        for (int i = 0; i < size; i++) _sequence[i] = i;
    }

    /// <summary>Consumer only: whether an item is ready.</summary>
    public bool HasItems => Volatile.Read(ref _sequence[(int)(_dequeue & _mask)]) == _dequeue + 1;

    public bool TryEnqueue(int item)
    {
        long pos = Volatile.Read(ref _enqueue);
        while (true)
        {
            int cell = (int)(pos & _mask);
            long diff = Volatile.Read(ref _sequence[cell]) - pos;
            if (diff == 0)
            {
                if (Interlocked.CompareExchange(ref _enqueue, pos + 1, pos) == pos)
                {
                    _items[cell] = item;
                    Volatile.Write(ref _sequence[cell], pos + 1);
                    return true;
                }
            }
            else if (diff < 0)
            {
                return false; // full
            }
            pos = Volatile.Read(ref _enqueue);
        }
    }

    /// <summary>Consumer only.</summary>
    public bool TryDequeue(out int item)
    {
        long pos = _dequeue;
        int cell = (int)(pos & _mask);
        if (Volatile.Read(ref _sequence[cell]) != pos + 1) { item = -1; return false; }
        item = _items[cell];
        Volatile.Write(ref _sequence[cell], pos + _mask + 1);
        _dequeue = pos + 1;
        return true;
    }
}
