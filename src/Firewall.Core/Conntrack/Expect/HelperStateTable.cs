using Firewall.Core.Helpers;

namespace Firewall.Core.Conntrack.Expect;

/// <summary>Per-connection state of the helper attached to a master connection (FTP line tracking and friends).</summary>
internal struct HelperSlot
{
    public FtpHelperState Ftp;
    public IrcHelperState Irc;
    public TftpHelperState Tftp;
    public int Entry;
}

/// <summary>
/// Helper state for helper-assisted connections, kept beside the table (not in every entry: few connections have a
/// helper). Bounded and preallocated; a slot is taken when such a connection is confirmed (by its creating thread)
/// and returned when it dies. Lookups are lock-free. The FTP state keeps each direction apart, so the two directions
/// of a control connection processed on two threads never write the same fields.
/// </summary>
internal sealed class HelperStateTable
{
    private readonly HelperSlot[] _slots;
    private readonly HashIndex _index;
    private readonly IndexStack _free;
    private int _count;

    public HelperStateTable(int capacity)
    {
        capacity = Math.Max(16, capacity);
        _slots = new HelperSlot[capacity];
        _index = new HashIndex(capacity);
        _free = new IndexStack(capacity);
    }

    public int Count => Volatile.Read(ref _count);

    private static ulong Hash(int entry) => (ulong)(uint)entry * 0x9E3779B97F4A7C15UL ^ 0xC2B2AE3D27D4EB4FUL;

    /// <summary>Takes a fresh slot for <paramref name="entry"/>; -1 when all are in use.</summary>
    public int Acquire(int entry)
    {
        int slot = _free.Pop();
        if (slot < 0) return -1;
        _slots[slot] = new HelperSlot { Entry = entry };
        ulong h = Hash(entry);
        _index.Insert(h, HashIndex.MakeValue(h, slot, 0));
        Interlocked.Increment(ref _count);
        return slot;
    }

    public int Find(int entry)
    {
        foreach (int rf in _index.Candidates(Hash(entry)))
            if (_slots[rf >> 1].Entry == entry) return rf >> 1;
        return -1;
    }

    public ref HelperSlot Slot(int slot) => ref _slots[slot];

    public void Release(int entry)
    {
        int slot = Find(entry);
        if (slot < 0) return;
        ulong h = Hash(entry);
        if (!_index.Remove(h, HashIndex.MakeValue(h, slot, 0))) return;
        _slots[slot].Entry = -1;
        Interlocked.Decrement(ref _count);
        _free.Push(slot);
    }
}
