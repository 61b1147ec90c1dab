using System.Runtime.CompilerServices;

namespace Firewall.Core.Conntrack;

public sealed partial class ConntrackWorker
{
    // ================================================================= commit protocol

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryBegin(ref CtEntry e, int ver) => Interlocked.CompareExchange(ref e.Version, ver + 1, ver) == ver;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void End(ref CtEntry e, int ver) => Volatile.Write(ref e.Version, ver + 2);

    // ================================================================= time and maintenance

    /// <summary>Advances this worker's clock and wheel, and frees entries other threads killed. Call from idle loops too.</summary>
    public void Maintain(long nowNs) => Tick(TimeMath.ToMs(nowNs));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Tick(uint now)
    {
        if (!_clockStarted) { _clockStarted = true; _now = now; _cursorTick = now >> TimingWheel.TickShift; }
        else if ((int)(now - _now) > 0) _now = now;
        if (Volatile.Read(ref _reclaimHead) >= 0) DrainReclaim();
        if (Refiles.HasItems) DrainRefiles();
        if ((int)((_now >> TimingWheel.TickShift) - _cursorTick) > 0)
        {
            AdvanceWheels();
            if (Id == 0) _t.Expectations.Expire(this, _now); // one worker sweeps expectations, once per tick
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AdvanceWheels()
    {
        uint target = _now >> TimingWheel.TickShift;
        int steps = (int)(target - _cursorTick);
        if (steps > TimingWheel.Slots) steps = TimingWheel.Slots;
        for (int i = 0; i < steps; i++)
        {
            int slot = (int)((_cursorTick + (uint)i) & TimingWheel.Mask);
            ProcessSlot(Unassured, slot);
            ProcessSlot(Assured, slot);
        }
        _cursorTick = target;
    }

    private void ProcessSlot(TimingWheel wheel, int slot)
    {
        int idx = wheel.Head(slot);
        while (idx >= 0)
        {
            int next = _e[idx].WheelNext;
            Visit(wheel, idx);
            idx = next;
        }
    }

    /// <summary>
    /// The entry's deadline moved earlier than the one it is filed under: its owner re-files it (now when that is this
    /// worker, else through the owner's queue), so it is reaped at the new deadline rather than at the old slot.
    /// </summary>
    private void Refile(int idx)
    {
        int owner = _e[idx].Owner;
        if (owner == Id) RefileOwn(idx);
        else _t.Workers[owner]?.Refiles.TryEnqueue(idx);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DrainRefiles()
    {
        while (Refiles.TryDequeue(out int idx)) RefileOwn(idx);
    }

    private void RefileOwn(int idx)
    {
        byte misc = _e[idx].Misc;
        // freed or reused meanwhile (by us: harmless to re-file; by another worker: not ours to touch)
        if ((misc & CtEntry.OwnerMask) != Id || (misc & CtEntry.InWheelBit) == 0) return;
        Visit((misc & CtEntry.AssuredWheelBit) != 0 ? Assured : Unassured, idx);
    }

    /// <summary>An entry in a due slot (or one whose deadline moved earlier): expire it when due, else re-file it where its deadline belongs.</summary>
    private void Visit(TimingWheel wheel, int idx)
    {
        ref CtEntry e = ref _e[idx];
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int ver = Volatile.Read(ref e.Version);
            if ((ver & 1) != 0) { Thread.SpinWait(10); continue; }
            ushort st = e.Status;
            uint d = e.Deadline;
            if ((st & (ushort)CtStatus.Dying) != 0) { wheel.Remove(idx); return; } // the reclaim stack frees it
            if (TimeMath.AtOrBefore(d, _now) && (st & (ushort)CtStatus.FixedTimeout) == 0)
            {
                if (TryKill(idx, ver, _now, expired: true)) return;
                continue;
            }
            if (Volatile.Read(ref e.Version) != ver) continue;
            wheel.Remove(idx);
            ((st & (ushort)CtStatus.Assured) != 0 ? Assured : Unassured).Add(idx, d);
            return;
        }
    }

    // ================================================================= allocation

    private int Allocate(uint now, ConntrackSettings s)
    {
        if (Interlocked.Increment(ref _t.CountField) > s.Max)
        {
            if (!EarlyDrop(now))
            {
                Interlocked.Decrement(ref _t.CountField);
                return -1;
            }
        }
        int idx = _localCount > 0 ? _localFree[--_localCount] : _t.PopFree();
        if (idx < 0)
        {
            DrainReclaim();
            idx = _localCount > 0 ? _localFree[--_localCount] : _t.PopFree();
            if (idx < 0) { Interlocked.Decrement(ref _t.CountField); return -1; }
        }
        return idx;
    }

    /// <summary>
    /// Batch hint for new connections: makes sure the next <paramref name="count"/> allocations come from this worker's
    /// local free list and starts loading those entries, so that initialising them does not stall on each in turn.
    /// </summary>
    public unsafe void PrefetchAllocations(int count)
    {
        count = Math.Min(count, _localFree.Length);
        while (_localCount < count)
        {
            int idx = _t.PopFree();
            if (idx < 0) break;
            // keep LIFO order: the popped entry goes below the ones already cached
            Array.Copy(_localFree, 0, _localFree, 1, _localCount);
            _localFree[0] = idx;
            _localCount++;
        }
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int j = 0; j < count && j < _localCount; j++)
        {
            byte* e = (byte*)Unsafe.AsPointer(ref _e[_localFree[_localCount - 1 - j]]);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(e);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(e + 64);
        }
    }

    private void FreeTentative(int idx)
    {
        ref CtEntry e = ref _e[idx];
        e.Status = 0;
        Interlocked.Decrement(ref _t.CountField);
        FreeSlot(idx);
    }

    private void FreeSlot(int idx)
    {
        ref CtEntry e = ref _e[idx];
        // a new generation: stale references to the old connection fail their version checks
        Volatile.Write(ref e.Version, e.Version + 2 & ~1);
        e.Status = 0;
        _t.MasterOf[idx] = -1;
        if (_localCount < _localFree.Length) _localFree[_localCount++] = idx;
        else _t.PushFree(idx);
    }

    private void Unlink(int idx)
    {
        ref CtEntry e = ref _e[idx];
        if ((e.Misc & CtEntry.InWheelBit) == 0) return;
        ((e.Misc & CtEntry.AssuredWheelBit) != 0 ? Assured : Unassured).Remove(idx);
    }

    // ================================================================= death

    /// <summary>
    /// Kills a confirmed entry at version <paramref name="ver"/>: marks it DYING, removes it from the index, counts
    /// it out and emits DESTROY. Its storage is freed by its owner (at once when that is this worker). False when the
    /// entry changed meanwhile (the caller re-reads).
    /// </summary>
    internal bool TryKill(int idx, int ver, uint now, bool expired, bool userspace = false)
    {
        ref CtEntry e = ref _e[idx];
        if ((e.Status & (ushort)CtStatus.Dying) != 0) return false;
        if (!TryBegin(ref e, ver)) return false;
        ushort st = e.Status;
        if ((st & (ushort)CtStatus.Dying) != 0 || (st & (ushort)CtStatus.Confirmed) == 0) { End(ref e, ver); return false; }
        e.Status = (ushort)(st | (ushort)CtStatus.Dying);
        End(ref e, ver);

        ConnTuple t = e.Orig;
        t.TryInvert(out ConnTuple tinv);
        ulong h = t.Hash(_t.Seed), hr = tinv.Hash(_t.Seed);
        _t.Index.Remove(h, HashIndex.MakeValue(h, idx, 0));
        _t.Index.Remove(hr, HashIndex.MakeValue(hr, idx, 1));
        Interlocked.Decrement(ref _t.CountField);
        if (_t.EventsEnabled) Emit(CtEventType.Destroy, idx, now, showTimeout: !expired);
        if ((st & (ushort)CtStatus.Helper) != 0) MasterDied(idx);

        int owner = e.Owner;
        if (owner == Id)
        {
            Unlink(idx);
            FreeSlot(idx);
        }
        else
        {
            var w = _t.Workers[owner];
            if (w is null) return true; // cannot happen: every entry has a live owner
            w.PushReclaim(idx);
        }
        return true;
    }

    internal void PushReclaim(int idx)
    {
        ref CtEntry e = ref _e[idx];
        while (true)
        {
            int head = Volatile.Read(ref _reclaimHead);
            e.Deadline = (uint)head;
            if (Interlocked.CompareExchange(ref _reclaimHead, idx, head) == head) return;
        }
    }

    private void DrainReclaim()
    {
        int idx = Interlocked.Exchange(ref _reclaimHead, -1);
        while (idx >= 0)
        {
            int next = (int)_e[idx].Deadline;
            Unlink(idx);
            FreeSlot(idx);
            idx = next;
        }
    }

    // ================================================================= table full

    /// <summary>
    /// Makes room by evicting the non-ASSURED entry nearest to expiry — first among this worker's entries, then among
    /// other workers' (validated by CAS, their owners reclaim the storage). ASSURED entries are never evicted.
    /// </summary>
    private bool EarlyDrop(uint now)
    {
        if (EvictFrom(Unassured, own: true, now)) return true;
        foreach (var w in _t.Workers)
        {
            // the control context owns only entries restored from a saved table; those may be evicted like any other
            if (w is null || w == this) continue;
            if (EvictFrom(w.Unassured, own: false, now)) return true;
        }
        return false;
    }

    private bool EvictFrom(TimingWheel wheel, bool own, uint now)
    {
        int from = (int)(_cursorTick & TimingWheel.Mask);
        for (int tries = 0; tries < 256; tries++)
        {
            int slot = wheel.FirstNonEmpty(from);
            if (slot < 0) return false;
            int idx = wheel.Head(slot);
            if (idx < 0) { if (!own) return false; continue; }
            ref CtEntry e = ref _e[idx];
            int ver = Volatile.Read(ref e.Version);
            if ((ver & 1) != 0) { if (!own) return false; continue; }
            ushort st = e.Status;
            uint d = e.Deadline;
            if (Volatile.Read(ref e.Version) != ver) continue;
            if (own)
            {
                if ((st & (ushort)CtStatus.Dying) != 0) { wheel.Remove(idx); continue; }
                if ((st & (ushort)CtStatus.Assured) != 0) { wheel.Remove(idx); Assured.Add(idx, d); continue; }
                // lazily filed: when its real deadline is in a later slot, re-file and look again
                if (TimingWheel.SlotOf(d) != slot && !TimeMath.AtOrBefore(d, now)) { wheel.Remove(idx); wheel.Add(idx, d); continue; }
            }
            else if ((st & ((ushort)CtStatus.Dying | (ushort)CtStatus.Assured)) != 0 || (st & (ushort)CtStatus.Confirmed) == 0)
            {
                from = (slot + 1) & TimingWheel.Mask;
                continue;
            }
            if (TryKill(idx, ver, now, expired: false))
            {
                Counters.EarlyDrop++;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Creates an expectation on behalf of <paramref name="master"/>'s helper (reference §8.1), timed from this worker's clock.
    /// </summary>
    internal Expect.ExpectResult CreateExpectation(int master, in ConnTuple tuple, Expect.ExpectFlags flags, byte helperId,
                                                   int maxPerMaster, uint timeoutMs, byte cls = 0)
        => _t.Expectations.Create(this, in tuple, flags, master, helperId, cls, maxPerMaster, timeoutMs, _now);

    /// <summary>A helper-assisted master is gone: its pending expectations go with it (children already created stay).</summary>
    private void MasterDied(int idx)
    {
        _t.Expectations.RemoveForMaster(this, idx);
        _t.HelperStates.Release(idx);
    }

    // ================================================================= events

    private void Emit(CtEventType type, int idx, uint now, bool showTimeout)
    {
        if (Events is null) return;
        ref CtEntry e = ref _e[idx];
        var ev = new CtEvent
        {
            Type = type,
            Orig = e.Orig,
            TcpState = e.Orig.Proto == Packets.IpProto.Tcp ? (TcpState)e.State : TcpState.None,
            ProtoState = e.State,
            Status = (CtStatus)(e.Status & ~(ushort)CtStatus.Dying),
            TimeoutMs = showTimeout ? TimeMath.Remaining(e.Deadline, now) : uint.MaxValue,
            HelperId = e.HelperId,
            TimeNs = (long)now * 1_000_000,
        };
        if (!Events.TryWrite(in ev)) Counters.EventsLost++;
    }
}
