using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Firewall.Core.Conntrack;

/// <summary>
/// The connection table: preallocated entries (arrays of structs addressed by index), a lock-free hash index,
/// a lock-free free list, and up to <see cref="MaxWorkers"/> packet workers (one per packet thread), each owning a
/// timing wheel for the entries it created. Lookups never block; no lock is taken on the packet path.
/// </summary>
public sealed partial class ConntrackTable
{
    /// <summary>Packet workers (owner ids 0–6); id 7 is the control context used by listing/flush/delete.</summary>
    public const int MaxWorkers = 7;
    internal const int ControlId = 7;

    internal readonly CtEntry[] Entries;
    /// <summary>Master entry of an EXPECTED connection, -1 otherwise (side array: 4 bytes per entry).</summary>
    internal readonly int[] MasterOf;
    internal readonly HashIndex Index;
    /// <summary>Expectations created by the FTP/IRC/TFTP helpers (reference §8).</summary>
    public readonly Expect.ExpectationTable Expectations;
    /// <summary>Per-connection state of helper-assisted connections.</summary>
    internal readonly Expect.HelperStateTable HelperStates;
    internal readonly ulong Seed;
    internal readonly int Capacity;
    private ConntrackSettings _settings;
    internal int CountField;
    private long _freeHead; // (tag << 32) | (index + 1); 0 = empty
    internal readonly ConntrackWorker?[] Workers = new ConntrackWorker?[MaxWorkers + 1];
    private int _workerCount;
    internal int ImportsInProgress;

    /// <summary>
    /// True while at most one packet worker exists and no state import runs: then no other thread can insert a flow
    /// between a packet's Track and its Confirm, and Confirm can skip the insertion-race checks.
    /// </summary>
    internal bool SingleInserter => Volatile.Read(ref _workerCount) <= 1 && Volatile.Read(ref ImportsInProgress) == 0;
    private readonly ConntrackWorker _control;
    private readonly object _controlGate = new();
    private volatile bool _eventsEnabled;

    /// <summary>
    /// Advice for the operating system about a large memory range before it is first touched (the daemon passes one that
    /// asks for huge pages). Core makes no OS calls itself.
    /// </summary>
    public delegate void MemoryAdvisor(nint address, nuint length);

    public ConntrackTable(ConntrackOptions options, MemoryAdvisor? advise = null) : this(new ConntrackSettings(options), advise) { }

    public ConntrackTable(ConntrackSettings settings, MemoryAdvisor? advise = null)
    {
        _settings = settings;
        // Room for unconfirmed entries is inside Max (the kernel counts them); the slack covers entries killed by one
        // worker and not yet reclaimed by their owner, and the workers' small local free lists.
        Capacity = settings.Max + settings.Max / 256 + 64 * (MaxWorkers + 1) + 64;
        if ((long)Capacity * 2 > HashIndex.MaxRef) throw new ArgumentOutOfRangeException(nameof(settings), "table too large");
        // Pinned and uninitialised, so the advice (e.g. huge pages) can take effect before the pages are first written.
        Entries = GC.AllocateUninitializedArray<CtEntry>(Capacity, pinned: true);
        MasterOf = GC.AllocateUninitializedArray<int>(Capacity, pinned: true);
        Advise(advise, Entries.AsSpan());
        Advise(advise, MasterOf.AsSpan());
        Array.Clear(Entries);
        Index = new HashIndex(Capacity * 2, advise: advise);
        Span<byte> seed = stackalloc byte[8];
        RandomNumberGenerator.Fill(seed);
        Seed = BitConverter.ToUInt64(seed);
        Expectations = new Expect.ExpectationTable(settings.ExpectMax, Seed);
        HelperStates = new Expect.HelperStateTable(settings.HelperConnections);
        // Free entries are linked through MasterOf (meaningless while an entry is free): popping then reads a small,
        // mostly cached array instead of missing on each cold entry in turn.
        for (int i = 0; i < Capacity; i++)
        {
            Entries[i].WheelNext = -1;
            MasterOf[i] = i + 1 < Capacity ? i + 1 : -1;
        }
        _freeHead = 1; // index 0, tag 0
        _control = new ConntrackWorker(this, ControlId);
        Workers[ControlId] = _control;
    }

    public ConntrackSettings Settings => Volatile.Read(ref _settings);

    internal static unsafe void Advise<T>(MemoryAdvisor? advise, Span<T> region) where T : unmanaged
    {
        if (advise is null || region.IsEmpty) return;
        fixed (T* p = region) advise((nint)p, (nuint)((long)region.Length * sizeof(T)));
    }

    /// <summary>Swaps tunables (timeouts, TcpLoose, …) atomically; existing entries stay. Max cannot grow beyond the allocated capacity.</summary>
    public void UpdateSettings(ConntrackSettings settings)
    {
        if (settings.Max > Capacity) throw new ArgumentException($"Conntrack:Max cannot grow beyond {Capacity} without a restart.");
        Volatile.Write(ref _settings, settings);
    }

    /// <summary>Entries in the table, unconfirmed ones included (nf_conntrack_count).</summary>
    public int Count => Volatile.Read(ref CountField);

    /// <summary>Whether workers record events (like nf_conntrack_events=2: only while somebody listens).</summary>
    public bool EventsEnabled { get => _eventsEnabled; set => _eventsEnabled = value; }

    /// <summary>Bytes held by the table's preallocated structures (entries, master links, index).</summary>
    public long MemoryBytes => (long)Capacity * Unsafe.SizeOf<CtEntry>() + (long)Capacity * sizeof(int) + Index.MemoryBytes;

    /// <summary>A worker for one packet thread. Each thread that calls Track must use its own worker.</summary>
    public ConntrackWorker CreateWorker()
    {
        int id = Interlocked.Increment(ref _workerCount) - 1;
        if (id >= MaxWorkers) throw new InvalidOperationException($"at most {MaxWorkers} conntrack workers");
        var w = new ConntrackWorker(this, id);
        Volatile.Write(ref Workers[id], w);
        return w;
    }

    /// <summary>Counters of all workers summed (conntrack -S).</summary>
    public ConntrackCounters ReadCounters()
    {
        var sum = new ConntrackCounters();
        foreach (var w in Workers)
            if (w is not null) sum.Add(w.Counters);
        return sum;
    }

    /// <summary>Per-worker counters, in worker order (conntrack -S prints one line per CPU).</summary>
    public List<ConntrackCounters> ReadCountersPerWorker()
    {
        var list = new List<ConntrackCounters>();
        foreach (var w in Workers)
            if (w is not null) list.Add(w.Counters);
        return list;
    }

    /// <summary>Drains pending events of all workers into <paramref name="sink"/> (single consumer). Returns how many.</summary>
    public int DrainEvents(List<CtEvent> sink, int max = int.MaxValue)
    {
        int n = 0;
        foreach (var w in Workers)
        {
            if (w?.Events is null) continue;
            while (n < max && w.Events.TryRead(out var e)) { sink.Add(e); n++; }
        }
        return n;
    }

    // ---------------------------------------------------------------- free list

    internal int PopFree()
    {
        while (true)
        {
            long head = Volatile.Read(ref _freeHead);
            int idx = (int)(uint)head - 1;
            if (idx < 0) return -1;
            int next = Volatile.Read(ref MasterOf[idx]);
            long tag = (head >> 32) + 1;
            long nh = (tag << 32) | (uint)(next + 1);
            if (Interlocked.CompareExchange(ref _freeHead, nh, head) == head) return idx;
        }
    }

    internal void PushFree(int idx)
    {
        while (true)
        {
            long head = Volatile.Read(ref _freeHead);
            MasterOf[idx] = (int)(uint)head - 1;
            long tag = (head >> 32) + 1;
            long nh = (tag << 32) | (uint)(idx + 1);
            if (Interlocked.CompareExchange(ref _freeHead, nh, head) == head) return;
        }
    }

    // ---------------------------------------------------------------- lookup

    /// <summary>
    /// Finds the live entry whose original tuple is <paramref name="t"/> (direction ORIGINAL) or whose reply tuple is
    /// <paramref name="t"/> (REPLY; <paramref name="tinv"/> must be t's inverse then). Expired entries met are killed
    /// and skipped. Returns the entry index or -1, with the version the caller must commit against.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Lookup(in ConnTuple t, ulong hash, in ConnTuple tinv, bool invertible, uint now, ConntrackWorker actor,
                        out CtDirection dir, out int version)
    {
        uint b = Index.Home(hash);
        uint fp = HashIndex.Fingerprint(hash);
        CtEntry[] entries = Entries;
        while (true)
        {
            ReadOnlySpan<uint> slots = Index.Bucket(b);
            for (int i = 0; i < slots.Length; i++)
            {
                uint v = slots[i];
                if (v == 0 || (v & 0xFF000000u) != fp) continue;
                int r = HashIndex.RefOf(v);
                int idx = r >> 1;
                int d = r & 1;
                ref CtEntry e = ref entries[idx];
                int ver = Volatile.Read(ref e.Version);
                if ((ver & 1) != 0) ver = WaitStable(ref e);
                if (d == 0 ? !e.Orig.Equals(t) : (!invertible || !e.Orig.Equals(tinv))) continue;
                ushort st = e.Status;
                uint deadline = e.Deadline;
                if (Volatile.Read(ref e.Version) != ver) { actor.Counters.SearchRestart++; i--; continue; }
                if ((st & (ushort)CtStatus.Dying) != 0 || (st & (ushort)CtStatus.Confirmed) == 0) continue;
                if (TimeMath.AtOrBefore(deadline, now) && (st & (ushort)CtStatus.FixedTimeout) == 0)
                {
                    actor.TryKill(idx, ver, now, expired: true);
                    continue;
                }
                dir = (CtDirection)d;
                version = ver;
                return idx;
            }
            if (!Index.HasOverflow(b)) break;
            b = Index.Next(b);
        }
        dir = CtDirection.Original;
        version = 0;
        return -1;
    }

    private static int WaitStable(ref CtEntry e)
    {
        var spin = new SpinWait();
        int v;
        while (((v = Volatile.Read(ref e.Version)) & 1) != 0) spin.SpinOnce(-1);
        return v;
    }

    /// <summary>Reads the fields the listing and rules need, consistently (retrying around concurrent commits).</summary>
    internal bool TryReadStable(int idx, out CtEntry copy)
    {
        ref CtEntry e = ref Entries[idx];
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int v = Volatile.Read(ref e.Version);
            if ((v & 1) != 0) { Thread.SpinWait(20); continue; }
            copy = e;
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref e.Version) == v) return true;
        }
        copy = default;
        return false;
    }

    /// <summary>
    /// The entry's original and reply tuples (for the rules' --ctorig*/--ctrepl* matches). The tuple never changes
    /// while the entry lives, so the result of a packet's own lookup is stable for that packet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadTuples(int entry, out ConnTuple orig, out ConnTuple reply)
    {
        orig = Entries[entry].Orig;
        orig.TryInvert(out reply);
    }

    // ---------------------------------------------------------------- control plane (not the packet path)

    /// <summary>A consistent copy of every live entry (conntrack -L). Walks the whole array: control plane only.</summary>
    public List<ConntrackEntrySnapshot> Snapshot(long nowNs, Func<ConntrackEntrySnapshot, bool>? filter = null)
    {
        uint now = TimeMath.ToMs(nowNs);
        var list = new List<ConntrackEntrySnapshot>();
        for (int i = 0; i < Capacity; i++)
        {
            if ((Volatile.Read(ref Entries[i].Status) & (ushort)CtStatus.Confirmed) == 0) continue;
            if (!TryReadStable(i, out var c)) continue;
            var st = (CtStatus)c.Status;
            if ((st & CtStatus.Dying) != 0 || (st & CtStatus.Confirmed) == 0) continue;
            if (TimeMath.AtOrBefore(c.Deadline, now)) continue;
            var snap = ConntrackEntrySnapshot.From(i, in c, now, MasterOf[i]);
            if (filter is null || filter(snap)) list.Add(snap);
        }
        return list;
    }

    /// <summary>Deletes the entries <paramref name="match"/> selects (conntrack -D / -F). Returns how many.</summary>
    public int Delete(long nowNs, Func<ConntrackEntrySnapshot, bool> match)
    {
        uint now = TimeMath.ToMs(nowNs);
        int n = 0;
        lock (_controlGate) // control plane: serialises users of the control context, never the packet path
        {
            for (int i = 0; i < Capacity; i++)
            {
                ref CtEntry e = ref Entries[i];
                if ((Volatile.Read(ref e.Status) & (ushort)CtStatus.Confirmed) == 0) continue;
                if (!TryReadStable(i, out var c)) continue;
                if ((c.Status & (ushort)CtStatus.Dying) != 0) continue;
                var snap = ConntrackEntrySnapshot.From(i, in c, now, MasterOf[i]);
                if (!match(snap)) continue;
                if (_control.TryKill(i, c.Version, now, expired: false, userspace: true)) n++;
            }
        }
        return n;
    }

    /// <summary>Live expectations (conntrack -L expect).</summary>
    public List<Expect.ExpectationSnapshot> SnapshotExpectations(long nowNs) => Expectations.Snapshot(TimeMath.ToMs(nowNs), Entries);

    /// <summary>Removes every entry (conntrack -F).</summary>
    public int Flush(long nowNs) => Delete(nowNs, static _ => true);
}
