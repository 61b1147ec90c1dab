namespace Firewall.Core.Conntrack;

/// <summary>Bounded single-producer/single-consumer ring of events. The producer never waits: a full ring counts a loss.</summary>
internal sealed class EventRing
{
    private readonly CtEvent[] _items;
    private readonly int _mask;
    private long _head; // next to write (producer)
    private long _tail; // next to read (consumer)

    public EventRing(int capacity)
    {
        int size = 1;
        while (size < Math.Max(2, capacity)) size <<= 1;
        _items = new CtEvent[size];
        _mask = size - 1;
    }

    public bool TryWrite(in CtEvent e)
    {
        long h = _head;
        if (h - Volatile.Read(ref _tail) >= _items.Length) return false;
        _items[h & _mask] = e;
        Volatile.Write(ref _head, h + 1);
        return true;
    }

    public bool TryRead(out CtEvent e)
    {
        long t = _tail;
        if (t >= Volatile.Read(ref _head)) { e = default; return false; }
        e = _items[t & _mask];
        Volatile.Write(ref _tail, t + 1);
        return true;
    }
}
