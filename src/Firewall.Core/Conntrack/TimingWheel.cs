using System.Numerics;
using System.Runtime.CompilerServices;

namespace Firewall.Core.Conntrack;

/// <summary>
/// A hashed timing wheel over the shared entry array, owned by one worker (only that thread links and unlinks).
/// 4096 slots of 1.024 s (a 70-minute horizon). An entry is filed in the slot of its deadline when filed; refreshing
/// the deadline is just a store in the entry — the wheel re-files an entry lazily when it reaches the old slot and
/// finds it not yet due. A bitmap of non-empty slots finds the earliest filed entry in O(slots/64).
/// Other workers may read <see cref="Head"/> and the bitmap racily (eviction candidates), validating what they find.
/// </summary>
internal sealed class TimingWheel
{
    public const int SlotBits = 12;
    public const int Slots = 1 << SlotBits;
    public const int Mask = Slots - 1;
    public const int TickShift = 10;

    private readonly int[] _heads = new int[Slots];
    private readonly ulong[] _bitmap = new ulong[Slots / 64];
    private readonly CtEntry[] _entries;
    private readonly byte _kindBit;
    private int _count;

    public TimingWheel(CtEntry[] entries, bool assured)
    {
        _entries = entries;
        _kindBit = assured ? CtEntry.AssuredWheelBit : (byte)0;
        Array.Fill(_heads, -1);
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SlotOf(uint deadline) => (int)((deadline >> TickShift) & Mask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Head(int slot) => Volatile.Read(ref _heads[slot]);

    public void Add(int idx, uint deadline)
    {
        int s = SlotOf(deadline);
        ref CtEntry e = ref _entries[idx];
        int h = _heads[s];
        e.WheelNext = h;
        e.WheelPrev = -(s + 2);
        if (h >= 0) _entries[h].WheelPrev = idx;
        Volatile.Write(ref _heads[s], idx);
        _bitmap[s >> 6] |= 1UL << (s & 63);
        e.Misc = (byte)((e.Misc & ~(CtEntry.InWheelBit | CtEntry.AssuredWheelBit)) | CtEntry.InWheelBit | _kindBit);
        _count++;
    }

    public void Remove(int idx)
    {
        ref CtEntry e = ref _entries[idx];
        int p = e.WheelPrev, n = e.WheelNext;
        if (p < -1)
        {
            int s = -p - 2;
            Volatile.Write(ref _heads[s], n);
            if (n < 0) _bitmap[s >> 6] &= ~(1UL << (s & 63));
        }
        else
        {
            _entries[p].WheelNext = n;
        }
        if (n >= 0) _entries[n].WheelPrev = p;
        e.WheelNext = -1;
        e.WheelPrev = -1;
        e.Misc = (byte)(e.Misc & ~(CtEntry.InWheelBit | CtEntry.AssuredWheelBit));
        _count--;
    }

    /// <summary>First non-empty slot at or after <paramref name="from"/> (wrapping), or -1.</summary>
    public int FirstNonEmpty(int from)
    {
        int word = from >> 6;
        ulong bits = Volatile.Read(ref _bitmap[word]) & (ulong.MaxValue << (from & 63));
        for (int i = 0; i <= _bitmap.Length; i++)
        {
            if (bits != 0) return (word << 6) | BitOperations.TrailingZeroCount(bits);
            word = (word + 1) & (_bitmap.Length - 1);
            bits = Volatile.Read(ref _bitmap[word]);
        }
        return -1;
    }
}
