using System.Runtime.CompilerServices;

namespace Firewall.Core.Conntrack;

/// <summary>
/// Lock-free index from tuple hash to entry reference, in the style of F14 / bucketized open addressing.
/// Buckets of 16 four-byte slots (one cache line). A slot holds (8-bit fingerprint &lt;&lt; 24) | (ref + 1), where
/// ref = entry &lt;&lt; 1 | direction; 0 is empty. Inserts claim an empty slot with CAS, probing to the next bucket when
/// full; each bucket counts the references that overflowed past it, so a lookup stops at the first bucket whose
/// count is zero. Entries never move, so a lookup never misses a reference that stayed present while it ran;
/// deletion is a CAS back to 0 (no tombstones) followed by decrementing the overflow counts it had raised.
/// </summary>
internal sealed class HashIndex
{
    public const int SlotsPerBucket = 16;
    public const int MaxRef = (1 << 24) - 2;

    private readonly uint[] _slots;
    private readonly int _base;          // first slot index of bucket 0 (cache-line aligned)
    private readonly int[] _overflow;
    private readonly uint _buckets;

    public HashIndex(int references, double maxLoad = 0.85, ConntrackTable.MemoryAdvisor? advise = null)
    {
        long buckets = (long)Math.Ceiling(references / (SlotsPerBucket * maxLoad));
        if (buckets < 2) buckets = 2;
        _buckets = (uint)buckets;
        _slots = GC.AllocateUninitializedArray<uint>((int)(buckets * SlotsPerBucket) + SlotsPerBucket, pinned: true);
        ConntrackTable.Advise(advise, _slots.AsSpan());
        Array.Clear(_slots);
        unsafe
        {
            fixed (uint* p = _slots)
            {
                long misalign = ((long)p & 63) / sizeof(uint);
                _base = misalign == 0 ? 0 : (int)(SlotsPerBucket - misalign);
            }
        }
        _overflow = new int[buckets];
    }

    public uint Buckets => _buckets;
    public long MemoryBytes => (long)_slots.Length * 4 + (long)_overflow.Length * 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Home(ulong hash) => (uint)(((hash >> 32) * _buckets) >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fingerprint(ulong hash) => (uint)(byte)hash << 24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint MakeValue(ulong hash, int entry, int dir) => Fingerprint(hash) | (uint)((entry << 1 | dir) + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RefOf(uint value) => (int)(value & 0xFFFFFF) - 1;

    /// <summary>The slots of a bucket and whether later buckets must be probed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<uint> Bucket(uint bucket) => new(_slots, _base + (int)bucket * SlotsPerBucket, SlotsPerBucket);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool HasOverflow(uint bucket) => Volatile.Read(ref _overflow[bucket]) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Next(uint bucket) => bucket + 1 == _buckets ? 0 : bucket + 1;

    /// <summary>Starts loading a bucket's cache line (a hint: never faults, never blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(ulong hash)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _slots[_base + (int)Home(hash) * SlotsPerBucket]));
    }

    /// <summary>Enumerates the references whose fingerprint matches <paramref name="hash"/>, following overflow buckets.</summary>
    public Probe Candidates(ulong hash) => new(this, hash);

    /// <summary>The references stored under a hash's fingerprint (candidates: the caller compares the real key).</summary>
    public ref struct Probe
    {
        private readonly HashIndex _index;
        private readonly uint _fp;
        private uint _bucket;
        private ReadOnlySpan<uint> _slots;
        private int _i;

        internal Probe(HashIndex index, ulong hash)
        {
            _index = index;
            _fp = Fingerprint(hash);
            _bucket = index.Home(hash);
            _slots = index.Bucket(_bucket);
            _i = -1;
            Current = -1;
        }

        /// <summary>The candidate reference (entry &lt;&lt; 1 | direction).</summary>
        public int Current { get; private set; }

        public bool MoveNext()
        {
            while (true)
            {
                while (++_i < _slots.Length)
                {
                    uint v = _slots[_i];
                    if (v != 0 && (v & 0xFF000000u) == _fp) { Current = RefOf(v); return true; }
                }
                if (!_index.HasOverflow(_bucket)) return false;
                _bucket = _index.Next(_bucket);
                _slots = _index.Bucket(_bucket);
                _i = -1;
            }
        }

        public readonly Probe GetEnumerator() => this;
    }

    /// <summary>Adds a reference. False only when every bucket is full (cannot happen below the sized capacity).</summary>
    public bool Insert(ulong hash, uint value)
    {
        uint b = Home(hash);
        for (uint probes = 0; probes < _buckets; probes++)
        {
            int start = _base + (int)b * SlotsPerBucket;
            for (int i = 0; i < SlotsPerBucket; i++)
            {
                ref uint s = ref _slots[start + i];
                if (Volatile.Read(ref s) == 0 && Interlocked.CompareExchange(ref s, value, 0) == 0)
                    return true;
            }
            Interlocked.Increment(ref _overflow[b]);
            b = Next(b);
        }
        // Undo the overflow marks: the index is over capacity.
        b = Home(hash);
        for (uint probes = 0; probes < _buckets; probes++) { Interlocked.Decrement(ref _overflow[b]); b = Next(b); }
        return false;
    }

    /// <summary>Removes exactly <paramref name="value"/> (which was inserted under <paramref name="hash"/>). False if absent.</summary>
    public bool Remove(ulong hash, uint value)
    {
        uint home = Home(hash);
        uint b = home;
        for (uint probes = 0; probes < _buckets; probes++)
        {
            int start = _base + (int)b * SlotsPerBucket;
            for (int i = 0; i < SlotsPerBucket; i++)
            {
                ref uint s = ref _slots[start + i];
                if (Volatile.Read(ref s) == value && Interlocked.CompareExchange(ref s, 0, value) == value)
                {
                    for (uint c = home; c != b; c = Next(c)) Interlocked.Decrement(ref _overflow[c]);
                    return true;
                }
            }
            if (!HasOverflow(b)) return false;
            b = Next(b);
        }
        return false;
    }
}
