using System.Runtime.CompilerServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack.Expect;

/// <summary>Why an expectation could not be created; the FTP/IRC/TFTP helpers then drop the master packet (as the kernel's do).</summary>
public enum ExpectResult : byte
{
    Created,
    /// <summary>An identical expectation of the same master and class was refreshed.</summary>
    Replaced,
    /// <summary>Overlaps an expectation of another master (-EBUSY).</summary>
    Busy,
    /// <summary>nf_conntrack_expect_max reached ("expectation table full").</summary>
    TableFull,
}

/// <summary>
/// The expectation table: preallocated, bounded (ExpectMax), allocation-free and lock-free like the main table. Two
/// lock-free indexes: by expected destination (family, protocol, zone, destination address and port — the exact part of
/// the pattern, what a new connection's lookup knows) and by master entry (for the per-master limit and for removing a
/// master's expectations when it dies). Every change to a slot is published through its version word.
/// </summary>
public sealed class ExpectationTable
{
    private readonly Expectation[] _slots;
    private readonly HashIndex _byDst;
    private readonly HashIndex _byMaster;
    private readonly IndexStack _free;
    private readonly ulong _seed;
    private readonly int _max;
    private int _count;
    private int _serial;

    public ExpectationTable(int max, ulong seed)
    {
        _max = Math.Max(1, max);
        _slots = new Expectation[_max + 64];
        _byDst = new HashIndex(_slots.Length);
        _byMaster = new HashIndex(_slots.Length);
        _free = new IndexStack(_slots.Length);
        _seed = seed;
    }

    public int Count => Volatile.Read(ref _count);
    public int Max => _max;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong DstHash(in ConnTuple t)
    {
        var k = new ConnTuple { Dst = t.Dst, DstId = t.DstId, Proto = t.Proto, Family = t.Family, Zone = t.Zone };
        return k.Hash(_seed ^ 0x5bd1e995UL);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong MasterHash(int master) => ((ulong)(uint)master * 0x9E3779B97F4A7C15UL) ^ (_seed * 0xff51afd7ed558ccdUL);

    private static bool Matches(in Expectation x, in ConnTuple t)
    {
        ref readonly ConnTuple e = ref x.Tuple;
        if (e.Dst != t.Dst || e.DstId != t.DstId || e.Proto != t.Proto || e.Family != t.Family || e.Zone != t.Zone) return false;
        if ((x.Flags & ExpectFlags.SrcAddrAny) == 0 && e.Src != t.Src) return false;
        if ((x.Flags & ExpectFlags.SrcPortAny) == 0 && e.SrcId != t.SrcId) return false;
        return true;
    }

    /// <summary>Two patterns overlap when some tuple matches both (their exact parts equal, masked parts compatible).</summary>
    private static bool Overlaps(in Expectation a, in Expectation b)
    {
        ref readonly ConnTuple x = ref a.Tuple;
        ref readonly ConnTuple y = ref b.Tuple;
        if (x.Dst != y.Dst || x.DstId != y.DstId || x.Proto != y.Proto || x.Family != y.Family || x.Zone != y.Zone) return false;
        bool addrAny = ((a.Flags | b.Flags) & ExpectFlags.SrcAddrAny) != 0;
        bool portAny = ((a.Flags | b.Flags) & ExpectFlags.SrcPortAny) != 0;
        return (addrAny || x.Src == y.Src) && (portAny || x.SrcId == y.SrcId);
    }

    private static bool SamePattern(in Expectation a, in Expectation b) =>
        a.Flags == b.Flags && a.Tuple.Dst == b.Tuple.Dst && a.Tuple.DstId == b.Tuple.DstId && a.Tuple.Proto == b.Tuple.Proto &&
        a.Tuple.Family == b.Tuple.Family && a.Tuple.Zone == b.Tuple.Zone &&
        ((a.Flags & ExpectFlags.SrcAddrAny) != 0 || a.Tuple.Src == b.Tuple.Src) &&
        ((a.Flags & ExpectFlags.SrcPortAny) != 0 || a.Tuple.SrcId == b.Tuple.SrcId);

    /// <summary>
    /// Adds an expectation for <paramref name="master"/> (kernel __nf_ct_expect_check + insert): an identical one of the
    /// same master and class is refreshed; an overlapping one of another master refuses (Busy); past the master's
    /// <paramref name="maxPerMaster"/> the master's oldest of that class is evicted; past Max the table is full.
    /// </summary>
    internal ExpectResult Create(ConntrackWorker w, in ConnTuple tuple, ExpectFlags flags, int master, byte helperId, byte cls,
                                 int maxPerMaster, uint timeoutMs, uint now)
    {
        var candidate = new Expectation { Tuple = tuple, Flags = flags, Master = master, HelperId = helperId, Class = cls };
        ulong dh = DstHash(in tuple);

        // same destination key: identical pattern of the same master+class → refresh; overlap with another → busy
        int found = ScanDst(dh, in candidate, now, w, out bool busy);
        if (found >= 0)
        {
            ref Expectation x = ref _slots[found];
            int v = Volatile.Read(ref x.Version);
            if ((v & 1) == 0 && Interlocked.CompareExchange(ref x.Version, v + 1, v) == v)
            {
                x.Deadline = now + timeoutMs;
                Volatile.Write(ref x.Version, v + 2);
                return ExpectResult.Replaced;
            }
        }
        if (busy) return ExpectResult.Busy;

        // the master's own limit: evict its oldest of this class
        if (maxPerMaster > 0)
        {
            int oldest = -1, n = 0;
            uint oldestSerial = 0;
            Span<int> mine = stackalloc int[MaxPerMasterScan];
            int count = OfMaster(master, mine);
            for (int i = 0; i < count; i++)
            {
                ref Expectation x = ref _slots[mine[i]];
                if (x.Class != cls || x.HelperId != helperId) continue;
                n++;
                if (oldest < 0 || (int)(x.Serial - oldestSerial) < 0) { oldest = mine[i]; oldestSerial = x.Serial; }
            }
            if (n >= maxPerMaster && oldest >= 0) TryRemove(oldest, w, evicted: true);
        }

        if (Interlocked.Increment(ref _count) > _max)
        {
            Interlocked.Decrement(ref _count);
            return ExpectResult.TableFull;
        }
        int slot = _free.Pop();
        if (slot < 0) { Interlocked.Decrement(ref _count); return ExpectResult.TableFull; }
        ref Expectation e = ref _slots[slot];
        int ver = Volatile.Read(ref e.Version);
        Volatile.Write(ref e.Version, ver + 1);
        e.Tuple = tuple;
        e.Flags = flags;
        e.Master = master;
        e.HelperId = helperId;
        e.Class = cls;
        e.Deadline = now + timeoutMs;
        e.Serial = (uint)Interlocked.Increment(ref _serial);
        e.Live = 1;
        Volatile.Write(ref e.Version, ver + 2);
        _byDst.Insert(dh, HashIndex.MakeValue(dh, slot, 0));
        ulong mh = MasterHash(master);
        _byMaster.Insert(mh, HashIndex.MakeValue(mh, slot, 0));
        w.Counters.ExpectCreate++;
        return ExpectResult.Created;
    }

    private int ScanDst(ulong dh, in Expectation candidate, uint now, ConntrackWorker w, out bool busy)
    {
        busy = false;
        int same = -1;
        foreach (int rf in _byDst.Candidates(dh))
        {
            int idx = rf >> 1;
            ref Expectation x = ref _slots[idx];
            if (x.Live == 0) continue;
            if (TimeMath.AtOrBefore(x.Deadline, now)) { TryRemove(idx, w, evicted: false); continue; }
            if (!Overlaps(in x, in candidate)) continue;
            if (x.Master == candidate.Master && x.Class == candidate.Class && SamePattern(in x, in candidate)) same = idx;
            else if (x.Master != candidate.Master || x.Class != candidate.Class) busy = true;
        }
        return same;
    }

    private const int MaxPerMasterScan = 256;

    /// <summary>Indices of the live expectations of <paramref name="master"/> (at most into.Length).</summary>
    private int OfMaster(int master, Span<int> into)
    {
        int n = 0;
        foreach (int rf in _byMaster.Candidates(MasterHash(master)))
        {
            int idx = rf >> 1;
            ref Expectation x = ref _slots[idx];
            if (x.Live != 0 && x.Master == master && n < into.Length) into[n++] = idx;
        }
        return n;
    }

    /// <summary>
    /// For the first packet of a new connection: finds a live expectation its tuple matches and consumes it (unless
    /// PERMANENT). Returns the master entry index and the expectation's helper, or -1.
    /// </summary>
    internal int Consume(ConntrackWorker w, in ConnTuple t, uint now, out byte helperId)
    {
        helperId = 0;
        if (Volatile.Read(ref _count) == 0) return -1;
        foreach (int rf in _byDst.Candidates(DstHash(in t)))
        {
            int idx = rf >> 1;
            ref Expectation x = ref _slots[idx];
            int ver = Volatile.Read(ref x.Version);
            if ((ver & 1) != 0 || x.Live == 0) continue;
            if (TimeMath.AtOrBefore(x.Deadline, now)) { TryRemove(idx, w, evicted: false); continue; }
            if ((x.Flags & ExpectFlags.Inactive) != 0 || !Matches(in x, in t)) continue;
            int master = x.Master;
            byte helper = x.HelperId;
            if ((x.Flags & ExpectFlags.Permanent) == 0 && !TryRemove(idx, w, evicted: false, expectedVersion: ver)) continue;
            helperId = helper;
            return master;
        }
        return -1;
    }

    /// <summary>Removes every expectation of a dying master (kernel nf_ct_remove_expectations).</summary>
    internal void RemoveForMaster(ConntrackWorker w, int master)
    {
        if (Volatile.Read(ref _count) == 0) return;
        Span<int> mine = stackalloc int[MaxPerMasterScan];
        int count = OfMaster(master, mine);
        for (int i = 0; i < count; i++) TryRemove(mine[i], w, evicted: false);
    }

    private bool TryRemove(int idx, ConntrackWorker w, bool evicted, int expectedVersion = -1)
    {
        ref Expectation x = ref _slots[idx];
        int ver = expectedVersion >= 0 ? expectedVersion : Volatile.Read(ref x.Version);
        if ((ver & 1) != 0 || x.Live == 0) return false;
        if (Interlocked.CompareExchange(ref x.Version, ver + 1, ver) != ver) return false;
        if (x.Live == 0) { Volatile.Write(ref x.Version, ver + 2); return false; }
        x.Live = 0;
        ConnTuple t = x.Tuple;
        int master = x.Master;
        Volatile.Write(ref x.Version, ver + 2);
        ulong dh = DstHash(in t), mh = MasterHash(master);
        _byDst.Remove(dh, HashIndex.MakeValue(dh, idx, 0));
        _byMaster.Remove(mh, HashIndex.MakeValue(mh, idx, 0));
        Interlocked.Decrement(ref _count);
        w.Counters.ExpectDelete++;
        _free.Push(idx);
        return true;
    }

    /// <summary>Removes expired expectations (called from maintenance; the packet path also removes those it meets).</summary>
    internal int Expire(ConntrackWorker w, uint now)
    {
        if (Volatile.Read(ref _count) == 0) return 0;
        int n = 0;
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i].Live != 0 && TimeMath.AtOrBefore(_slots[i].Deadline, now) && TryRemove(i, w, evicted: false)) n++;
        return n;
    }

    internal List<ExpectationSnapshot> Snapshot(uint now, CtEntry[] entries)
    {
        var list = new List<ExpectationSnapshot>();
        for (int i = 0; i < _slots.Length; i++)
        {
            ref Expectation x = ref _slots[i];
            int v = Volatile.Read(ref x.Version);
            if ((v & 1) != 0 || x.Live == 0) continue;
            var copy = x;
            if (Volatile.Read(ref x.Version) != v || TimeMath.AtOrBefore(copy.Deadline, now)) continue;
            list.Add(new ExpectationSnapshot
            {
                Tuple = copy.Tuple, Flags = copy.Flags, RemainingMs = TimeMath.Remaining(copy.Deadline, now),
                HelperId = copy.HelperId, Class = copy.Class, Master = copy.Master, MasterOrig = entries[copy.Master].Orig,
            });
        }
        return list;
    }

    /// <summary>One line as <c>conntrack -L expect</c> prints it (reference §8.6).</summary>
    public static string FormatListLine(in ExpectationSnapshot s)
    {
        bool v6 = s.Tuple.IsV6;
        string all = v6 ? "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" : "255.255.255.255";
        string none = v6 ? "::" : "0.0.0.0";
        bool addrAny = (s.Flags & ExpectFlags.SrcAddrAny) != 0, portAny = (s.Flags & ExpectFlags.SrcPortAny) != 0;
        string src = addrAny ? none : s.Tuple.Src.ToString(v6);
        var flags = new List<string>();
        if ((s.Flags & ExpectFlags.Permanent) != 0) flags.Add("PERMANENT");
        if ((s.Flags & ExpectFlags.Inactive) != 0) flags.Add("INACTIVE");
        string flagText = flags.Count > 0 ? string.Join(",", flags) + " " : "";
        var m = s.MasterOrig;
        return $"{s.RemainingMs / 1000} proto={s.Tuple.Proto} src={src} dst={s.Tuple.Dst.ToString(v6)} sport={(portAny ? 0 : s.Tuple.SrcId)} dport={s.Tuple.DstId} " +
               $"mask-src={(addrAny ? none : all)} mask-dst={all} sport={(portAny ? 0 : 65535)} dport=65535 " +
               $"master-src={m.Src.ToString(v6)} master-dst={m.Dst.ToString(v6)} sport={m.SrcId} dport={m.DstId} {flagText}class={s.Class} helper={ConntrackFormatter.HelperName(s.HelperId) ?? "none"}";
    }
}
